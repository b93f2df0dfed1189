/* libFuzzer target: the explorer's session file (tests/fuzz/README.md).
 *
 * The bytes are ~/.config/zspace/session, read at start-up before any
 * window exists (src/app/session_file.c). A refusal must say which line
 * ("line N: ...") and leave the session empty; an accepted one must hold
 * only values the explorer can apply: window size in range, a tab that
 * exists, finite strengths within +-100, slot latents of 1..4096 finite
 * numbers, NUL-terminated strings. */
#include "fuzz_util.h"
#include "app/session_file.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_as_file(data, size);
    zs_session s;
    char err[256];
    int r = zs_session_parse(path, &s, err, sizeof err);
    FUZZ_REQUIRE(r == 0 || r == -1);   /* the file exists */
    if (r < 0) {
        FUZZ_REQUIRE(strncmp(err, "line ", 5) == 0);
        FUZZ_REQUIRE(!s.slot_z[0] && !s.slot_z[1] && s.model[0] == 0);
        return 0;
    }
    FUZZ_REQUIRE(s.w == 0 || (s.w >= 320 && s.w <= 16384 && s.h >= 240 && s.h <= 16384));
    FUZZ_REQUIRE(s.tab >= -1 && s.tab < ZS_NTABS);
    FUZZ_REQUIRE(s.face >= -1);
    for (int k = 0; k < ZS_NATTR; k++) FUZZ_REQUIRE(isfinite(s.strength[k]) && fabsf(s.strength[k]) <= 100);
    for (int i = 0; i < 2; i++) {
        if (s.slot_z[i]) {
            FUZZ_REQUIRE(s.slot_n[i] >= 1 && s.slot_n[i] <= 4096);
            for (int j = 0; j < s.slot_n[i]; j++) FUZZ_REQUIRE(isfinite(s.slot_z[i][j]));
        }
        FUZZ_REQUIRE(memchr(s.slot_label[i], 0, sizeof s.slot_label[i]));
        FUZZ_REQUIRE(memchr(s.slot_name[i], 0, sizeof s.slot_name[i]));
    }
    FUZZ_REQUIRE(memchr(s.model, 0, sizeof s.model) && memchr(s.gallery, 0, sizeof s.gallery) &&
                 memchr(s.attrs, 0, sizeof s.attrs) && memchr(s.photo, 0, sizeof s.photo));
    zs_session_free(&s);
    return 0;
}
