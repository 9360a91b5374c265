//! What the process keeps of memory it no longer uses. glibc's allocator gives each thread
//! that allocates an arena of its own and keeps freed pages in it, and after the first big
//! block is freed it serves big blocks from those arenas too: the customers' frames stayed
//! behind (`benches/kiosk-vitals`, RSS after 2 verifications: 468 MB with the defaults;
//! 355 MB with two arenas, still 357 after 21; with the settings below and a trim at each
//! wipe, 272 MB after 2 and 249 MB after 21).

/// At most two malloc arenas, and every block of 256 KiB or more (a camera frame, a decoded
/// upload) mapped on its own and unmapped when freed: glibc otherwise raises that threshold
/// after the first such block is freed, and the customer's frames then stay in the heap,
/// scattered, after them. Call before any thread starts (the first thing `main` does).
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: called at the start of `main`, before any other thread exists; `mallopt`
    // only changes allocator settings.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Gives the pages freed since (the customer's images, the engine's working buffers) back
/// to the system: called when a session is wiped.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` only returns free memory at the top of each arena and whole
    // free pages inside them to the kernel; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
