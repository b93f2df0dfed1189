/* Sanitizer builds only. LeakSanitizer checks for leaks at exit, after
 * Mesa has unloaded its driver (swrast_dri.so) with dlclose: allocations
 * the driver keeps for the life of the process then show up as leaks in
 * "<unknown module>", which no suppression can name. Keeping every library
 * loaded lets tests/sanitizers.supp suppress them by library, while leaks
 * of our own code are still reported. ../shared/ENVIRONMENT.md describes
 * the problem. */
#if defined(__SANITIZE_ADDRESS__)
int dlclose(void *handle);
int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
#else
typedef int zs_app_sanitizer_unused;   /* ISO C wants a declaration in every file */
#endif
