//! Tesseract's C API (`capi.h`), opened at run time from Debian's `libtesseract.so.5`:
//! nothing of Tesseract is needed to build, and a machine without it still runs (the
//! engine then reads QR codes only). The only `unsafe` code of this crate is here, each
//! call with its SAFETY comment; [`Engine`] is the safe face the rest of the crate uses.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString, OsStr};
use std::sync::Arc;
use std::time::Duration;

use image::GrayImage;

/// `TessBaseAPI*`, opaque.
type Handle = *mut c_void;
/// `ETEXT_DESC*` (Tesseract's progress monitor), opaque.
type Monitor = *mut c_void;

/// `PSM_SINGLE_BLOCK`: the picture is one block of text (the CLI's `--psm 6`).
const SINGLE_BLOCK: c_int = 6;

/// The functions of an opened `libtesseract`, and the library itself, kept open while any
/// of them can be called.
pub(super) struct Library {
    create: unsafe extern "C" fn() -> Handle,
    delete: unsafe extern "C" fn(Handle),
    init: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    end: unsafe extern "C" fn(Handle),
    set_variable: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    set_page_seg_mode: unsafe extern "C" fn(Handle, c_int),
    set_image: unsafe extern "C" fn(Handle, *const u8, c_int, c_int, c_int, c_int),
    recognize: unsafe extern "C" fn(Handle, Monitor) -> c_int,
    tsv_text: unsafe extern "C" fn(Handle, c_int) -> *mut c_char,
    delete_text: unsafe extern "C" fn(*const c_char),
    clear: unsafe extern "C" fn(Handle),
    monitor_create: unsafe extern "C" fn() -> Monitor,
    monitor_delete: unsafe extern "C" fn(Monitor),
    monitor_deadline: unsafe extern "C" fn(Monitor, c_int),
    version: unsafe extern "C" fn() -> *const c_char,
    /// OpenMP's `omp_set_max_active_levels`, from the library's own `libgomp`. Debian's
    /// Tesseract runs parts of its network on 4 threads at once; on a busy 2-core engine
    /// that quadrupled the CPU a page takes (measured with the CLI: 4.4 s of CPU and 11 s
    /// of wall time for five card sides, 1.5 s and 1.5 s on one thread). 0 active levels
    /// keeps every one of its parallel regions on the calling thread.
    one_thread: Option<unsafe extern "C" fn(c_int)>,
    _library: libloading::Library,
}

impl Library {
    /// Opens `name` (a file name the dynamic loader looks up, or a path).
    pub(super) fn open(name: &OsStr) -> Result<Self, String> {
        // SAFETY: loading runs the library's initialisers; `libtesseract` and what it links
        // (Leptonica, libgomp, libarchive, libcurl) have no initialiser with preconditions.
        let library =
            unsafe { libloading::Library::new(name) }.map_err(|error| error.to_string())?;
        macro_rules! function {
            ($name:literal) => {
                // SAFETY: each symbol is declared with the signature `capi.h` of
                // Tesseract 5 gives it (pointers as `c_void`, `BOOL` and enums as
                // `c_int`); the pointer is kept only beside `library`, which stays loaded.
                *unsafe { library.get($name) }.map_err(|error| error.to_string())?
            };
        }
        Ok(Self {
            create: function!(b"TessBaseAPICreate\0"),
            delete: function!(b"TessBaseAPIDelete\0"),
            init: function!(b"TessBaseAPIInit3\0"),
            end: function!(b"TessBaseAPIEnd\0"),
            set_variable: function!(b"TessBaseAPISetVariable\0"),
            set_page_seg_mode: function!(b"TessBaseAPISetPageSegMode\0"),
            set_image: function!(b"TessBaseAPISetImage\0"),
            recognize: function!(b"TessBaseAPIRecognize\0"),
            tsv_text: function!(b"TessBaseAPIGetTsvText\0"),
            delete_text: function!(b"TessDeleteText\0"),
            clear: function!(b"TessBaseAPIClear\0"),
            monitor_create: function!(b"TessMonitorCreate\0"),
            monitor_delete: function!(b"TessMonitorDelete\0"),
            monitor_deadline: function!(b"TessMonitorSetDeadlineMSecs\0"),
            version: function!(b"TessVersion\0"),
            // SAFETY: `void omp_set_max_active_levels(int)`, OpenMP's signature; absent
            // from a Tesseract built without OpenMP, which then runs on one thread anyway.
            one_thread: unsafe { library.get(b"omp_set_max_active_levels\0") }
                .ok()
                .map(|symbol| *symbol),
            _library: library,
        })
    }

    /// Tesseract's version, e.g. `5.3.0`.
    pub(super) fn version(&self) -> String {
        // SAFETY: `TessVersion` returns a static NUL-terminated string.
        unsafe { CStr::from_ptr((self.version)()) }
            .to_string_lossy()
            .into_owned()
    }
}

/// One initialised Tesseract (`TessBaseAPI`) with its languages loaded: the models are
/// read once, then it recognises picture after picture. Used by one thread at a time.
pub(super) struct Engine {
    handle: Handle,
    library: Arc<Library>,
}

// SAFETY: a `TessBaseAPI` is not tied to the thread that made it; `Engine` gives access to
// it only through `&mut self`, so one thread at a time uses it.
unsafe impl Send for Engine {}

/// Why a recognition gave no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// The picture is empty or too large to hand over.
    Size,
    /// Tesseract stopped at the deadline.
    Deadline,
    /// Tesseract said it failed.
    Failed,
}

impl Engine {
    /// Tesseract with `languages` (e.g. `vie+eng`) from its installed data, reading one
    /// block of text, with `variables` set; `None` when a language is not installed.
    pub(super) fn new(
        library: Arc<Library>,
        languages: &str,
        variables: &[(&str, &str)],
    ) -> Option<Self> {
        let languages = CString::new(languages).ok()?;
        // SAFETY: `TessBaseAPICreate` takes nothing and returns a new object or null.
        let handle = unsafe { (library.create)() };
        if handle.is_null() {
            return None;
        }
        // From here `Drop` ends and deletes `handle`, on every way out.
        let engine = Self { handle, library };
        // Tesseract's own messages ("Estimating resolution as 274", a missing language's
        // file) would go to the engine's stderr, its log: the engine logs its own words.
        // `debug_file` is one variable for the whole process, read by every engine as it
        // prints: set once, by the first engine made, before any other exists.
        static QUIET: std::sync::Once = std::sync::Once::new();
        QUIET.call_once(|| {
            engine.set("debug_file", "/dev/null");
        });
        // SAFETY: `handle` is live; a null data path means Tesseract's installed data (or
        // `TESSDATA_PREFIX`), as the CLI does; `languages` is NUL-terminated.
        let status =
            unsafe { (engine.library.init)(engine.handle, std::ptr::null(), languages.as_ptr()) };
        if status != 0 {
            return None;
        }
        // SAFETY: `handle` is live and initialised.
        unsafe { (engine.library.set_page_seg_mode)(engine.handle, SINGLE_BLOCK) };
        for (name, value) in variables {
            if !engine.set(name, value) {
                return None;
            }
        }
        Some(engine)
    }

    /// Sets one of Tesseract's variables; false when it has no such variable.
    fn set(&self, name: &str, value: &str) -> bool {
        let (Ok(name), Ok(value)) = (CString::new(name), CString::new(value)) else {
            return false;
        };
        // SAFETY: `handle` is live; both strings are NUL-terminated and outlive the call
        // (Tesseract copies them).
        unsafe { (self.library.set_variable)(self.handle, name.as_ptr(), value.as_ptr()) != 0 }
    }

    /// Recognises `image` and returns Tesseract's TSV (`level page block par line word
    /// left top width height conf text`, no header row); gives up at `deadline`.
    pub(super) fn recognise(
        &mut self,
        image: &GrayImage,
        deadline: Duration,
    ) -> Result<String, Failure> {
        let (Ok(width), Ok(height)) = (
            c_int::try_from(image.width()),
            c_int::try_from(image.height()),
        ) else {
            return Err(Failure::Size);
        };
        if width == 0 || height == 0 || width.checked_mul(height).is_none() {
            return Err(Failure::Size);
        }
        let milliseconds = c_int::try_from(deadline.as_millis()).unwrap_or(c_int::MAX);
        let pixels = image.as_raw();
        // SAFETY: `handle` is live and used by this thread alone (`&mut self`); `pixels`
        // holds `width × height` bytes, one per pixel, rows `width` bytes apart, and
        // Tesseract copies them before `set_image` returns. The monitor is created,
        // given to `recognize` and deleted here; the TSV string is copied, then freed with
        // Tesseract's own `TessDeleteText`. `omp_set_max_active_levels` only sets the
        // calling thread's OpenMP limit.
        unsafe {
            if let Some(one_thread) = self.library.one_thread {
                one_thread(0);
            }
            (self.library.set_image)(self.handle, pixels.as_ptr(), width, height, 1, width);
            let monitor = (self.library.monitor_create)();
            if monitor.is_null() {
                (self.library.clear)(self.handle);
                return Err(Failure::Failed);
            }
            (self.library.monitor_deadline)(monitor, milliseconds);
            let started = std::time::Instant::now();
            let status = (self.library.recognize)(self.handle, monitor);
            (self.library.monitor_delete)(monitor);
            if status != 0 {
                (self.library.clear)(self.handle);
                return Err(if started.elapsed() >= deadline {
                    Failure::Deadline
                } else {
                    Failure::Failed
                });
            }
            let text = (self.library.tsv_text)(self.handle, 0);
            let tsv = if text.is_null() {
                String::new()
            } else {
                let copied = CStr::from_ptr(text).to_string_lossy().into_owned();
                (self.library.delete_text)(text);
                copied
            };
            (self.library.clear)(self.handle);
            Ok(tsv)
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: `handle` came from `TessBaseAPICreate` and is ended and deleted once,
        // here; `End` is harmless on one whose `Init` failed.
        unsafe {
            (self.library.end)(self.handle);
            (self.library.delete)(self.handle);
        }
    }
}
