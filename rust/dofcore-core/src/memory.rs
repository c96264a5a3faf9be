//! Freed memory given back to the system between the phases of a render.
//!
//! glibc's malloc keeps the blocks a program frees (up to tens of MB each: it raises its
//! threshold for mapping large blocks apart as they are freed) and hands them out again only
//! where a new block fits, so a render that frees one phase's arrays before allocating the next
//! phase's of other sizes held both at once. `malloc_trim` returns the free pages at a cost of
//! one page fault per page reused (docs/performance.md, memory).

/// Return the heap's free pages to the system (glibc); elsewhere nothing to do.
pub(crate) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes no pointers and is thread-safe; any pad is valid.
        unsafe {
            malloc_trim(0);
        }
    }
}
