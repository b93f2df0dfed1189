/* The explorer's session file (format in session.c): the parser, apart from
 * the window so that tests and the fuzzer (tests/fuzz/fuzz_session.c) can
 * call it without one. */
#ifndef ZS_SESSION_FILE_H
#define ZS_SESSION_FILE_H

#include "app_impl.h"

/* Parse `path` into *s: 0 when it parsed, 1 when the file does not exist
 * (err holds strerror), -1 when it cannot be read or parsed (err says
 * "line N: what"; *s is then empty). A parsed *s owns slot_z: free it with
 * zs_session_free. */
int zs_session_parse(const char *path, zs_session *s, char *err, size_t nerr);
void zs_session_free(zs_session *s);
/* A direction of the Walk tab by name: an attribute ("Smiling") or "PC3"; -1 if neither. */
int zs_session_direction(const char *name);

#endif
