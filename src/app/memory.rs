//! What the process keeps of memory it no longer uses. glibc's allocator gives each thread
//! that allocates an arena of its own and keeps freed pages in it: the kiosk's camera,
//! frame-analysis, challenge and runtime threads each held tens of MB after a verification
//! (`benches/kiosk-vitals`: 468 MB after 20 verifications, 355 MB with two arenas). The
//! kiosk asks for two arenas at start and hands freed pages back after each customer.

/// At most two malloc arenas. Call before any thread starts (the first thing `main` does).
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called at the start of `main`, before any other thread exists; `mallopt`
    // only changes an allocator setting.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives the pages freed since (the customer's images, the engine's working buffers) back
/// to the system: called when a session is wiped.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free memory at the top of each arena and whole
    // free pages inside them to the kernel; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
