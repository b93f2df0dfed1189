#!/bin/sh
# The Debian package, end to end (run by .ci/run as root; needs ../shared/celeba):
#   1. builds the zspace target in its own build dir (build-deb) and the .deb with CPack;
#   2. checks the package: its Depends (dpkg-shlibdeps' libraries plus OpenBLAS, which is
#      dlopen'ed, and libGL) and its files (binary, shipped data, shaders, font, desktop entry,
#      hicolor icons, man page, tools);
#   3. installs it with apt-get (so dependencies resolve; dpkg -i when there is no apt-get);
#   4. from an empty directory (nothing may come from the cwd): `zspace --version` (OpenBLAS
#      loads, from a runtime package's file), every subcommand's --help, `zspace edit` of a
#      CelebA face with the installed default model and attribute vectors -> a 64x64 PNG that is
#      byte-identical to what the build tree's zspace writes, `zspace eval` on the installed
#      gallery, the installed PyTorch tools round-tripping the installed model (when torch is
#      there), and, when xvfb-run is there, the installed explorer rendering a frame with the
#      installed data (and --data-dir honoured);
#   5. removes the package and checks /usr/bin/zspace is gone.
# Not root: skipped (exit 77). A zspace package that was already installed is left alone
# (skipped too), so the test never removes someone's install.
set -eu
cd "$(dirname "$0")/.."
SRC=$PWD
if [ "$(id -u)" != 0 ]; then
    echo "package_test: skipped: needs root (installs and removes the zspace package)"
    exit 77
fi
if dpkg-query -W -f '${Status}' zspace 2>/dev/null | grep -q 'install ok installed'; then
    echo "package_test: skipped: a zspace package is already installed; remove it first"
    exit 77
fi
CELEBA="$SRC/../shared/celeba/img_align_celeba"
FACE=
for f in "$CELEBA"/*.jpg; do
    if [ -f "$f" ]; then FACE=$f; break; fi
done
if [ -z "$FACE" ]; then
    echo "package_test: skipped: no CelebA images in $CELEBA"
    exit 77
fi

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
B="$SRC/build-deb"
T=$(mktemp -d)
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then
        dpkg -r zspace >/dev/null 2>&1 || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT

# ---- 1. build (only what the package holds: the install rules do not depend on "all")
cmake -B "$B" -DCMAKE_BUILD_TYPE=Release -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$B" -j2 --target zspace zspace_man >/dev/null
rm -f "$B"/zspace_*.deb
(cd "$B" && cpack -G DEB > "$T/cpack.log" 2>&1) || { cat "$T/cpack.log"; fail "cpack -G DEB"; }
DEB=$(ls "$B"/zspace_*.deb)
echo "package_test: built $(basename "$DEB") ($(du -k "$DEB" | cut -f1) KB)"

# ---- 2. the package's control fields and files
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
echo "package_test: Depends: $DEPENDS"
for p in libsdl2-2.0-0 libsdl2-ttf-2.0-0 libopenblas0 libjpeg62-turbo libpng16-16 libepoxy0 libgl1 libc6; do
    echo "$DEPENDS" | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -qx "$p" || fail "Depends lacks $p"
done
# every library the binary links must come from a package it depends on
NEEDED=$(readelf -d "$B/zspace" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $NEEDED; do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x86_64|64bit/ { print $NF; exit }')
    [ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1) || true
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1) || true
    [ -n "$pkg" ] || fail "no package owns $lib ($path)"
    echo "$DEPENDS" | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -qx "$pkg" || fail "$lib is in $pkg, not in Depends"
done
dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./|/|' > "$T/files"
for f in /usr/bin/zspace /usr/share/zspace/data/default.safetensors /usr/share/zspace/data/attrs.safetensors \
         /usr/share/zspace/data/gallery.zsf /usr/share/zspace/shaders/quad.vert /usr/share/zspace/shaders/quad.frag /usr/share/zspace/shaders/sharpen.frag \
         /usr/share/zspace/assets/DejaVuSans.ttf /usr/share/applications/zspace.desktop \
         /usr/share/icons/hicolor/16x16/apps/zspace.png /usr/share/icons/hicolor/48x48/apps/zspace.png \
         /usr/share/icons/hicolor/128x128/apps/zspace.png /usr/share/man/man1/zspace.1.gz \
         /usr/share/zspace/tools/train_torch.py /usr/share/zspace/tools/export_torch.py \
         /usr/share/doc/zspace/copyright; do
    grep -qx "$f" "$T/files" || fail "the package has no $f"
done

# ---- 3. install
if command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB" > "$T/apt.log" 2>&1 ||
        { cat "$T/apt.log"; fail "apt-get install $DEB"; }
else
    dpkg -i "$DEB" >/dev/null || fail "dpkg -i $DEB"
fi
installed=1
[ -x /usr/bin/zspace ] || fail "/usr/bin/zspace is not there after installing"

# ---- 4. the installed program, from an empty directory
mkdir "$T/cwd"
cd "$T/cwd"
Z=/usr/bin/zspace
D=/usr/share/zspace/data
$Z --version > "$T/version" || fail "zspace --version"
echo "package_test: $(cat "$T/version")"
blas=$(strings "$Z" | grep -m1 '/libopenblas\.so\.0$' || true)
if [ -n "$blas" ]; then   # the path the build recorded must be a runtime package's file
    owner=$(dpkg -S "$blas" 2>/dev/null | cut -d: -f1 | head -n 1)
    case "$owner" in
        ""|*-dev) fail "the recorded OpenBLAS $blas belongs to '${owner:-no package}', not a runtime package" ;;
    esac
fi
cmds=$($Z --help | sed -n '/^commands:/,$p' | awk 'NR > 1 { print $1 }')
[ "$(echo "$cmds" | wc -w)" -ge 13 ] || fail "zspace --help lists only: $cmds"
for c in $cmds; do
    $Z "$c" --help > "$T/help" 2>&1 || fail "zspace $c --help exited non-zero"
    grep -q "^usage: zspace" "$T/help" || fail "zspace $c --help prints no usage"
done
zcat /usr/share/man/man1/zspace.1.gz | sed 's/\\-/-/g' > "$T/man"   # troff's \- is a plain -
grep -q '^\.TH ZSPACE 1' "$T/man" || fail "the man page is not a man page"
for c in $cmds; do
    grep -qx "\.B $c" "$T/man" || fail "the man page does not describe $c"
done
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate /usr/share/applications/zspace.desktop || fail "desktop-file-validate"
fi

$Z edit --model $D/default.safetensors --attrs $D/attrs.safetensors --add Smiling=1 "$FACE" --out-dir out \
    > "$T/edit.log" 2>&1 || { cat "$T/edit.log"; fail "installed zspace edit"; }
PNG="out/$(basename "$FACE" | sed 's/\.[^.]*$//')_edit.png"
[ -s "$PNG" ] || fail "zspace edit wrote no $PNG"
# PNG signature, then IHDR: width and height (big-endian u32 at bytes 16 and 20)
[ "$(od -An -tx1 -N8 "$PNG" | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$PNG is not a PNG"
[ "$(od -An -tu1 -j16 -N8 "$PNG" | tr -s ' ' | sed 's/^ //; s/ $//')" = "0 0 0 64 0 0 0 64" ] ||
    fail "$PNG is not 64x64"
"$B/zspace" edit --model "$SRC/data/default.safetensors" --attrs "$SRC/data/attrs.safetensors" --add Smiling=1 \
    "$FACE" --out-dir "$T/ref" >/dev/null 2>&1 || fail "build-tree zspace edit"
cmp -s "$PNG" "$T/ref/$(basename "$PNG")" || fail "the installed zspace's edit differs from the build tree's"
echo "package_test: installed zspace edit --add Smiling=1 $(basename "$FACE") -> $PNG (64x64, same as the build tree's)"
$Z eval --model $D/default.safetensors --data $D/gallery.zsf --split val --threads 2 > "$T/eval" ||
    fail "installed zspace eval"
grep -q '^mse: 0\.00' "$T/eval" || fail "zspace eval on the installed gallery: $(cat "$T/eval")"

if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then   # the installed PyTorch tools
    /usr/share/zspace/tools/export_torch.py $D/default.safetensors "$T/m.pt" >/dev/null ||
        fail "installed export_torch.py"
    /usr/share/zspace/tools/export_torch.py --to-zspace "$T/m.pt" "$T/back.safetensors" >/dev/null ||
        fail "installed export_torch.py --to-zspace"
    $Z eval --model "$T/back.safetensors" --data $D/gallery.zsf --split val --threads 2 > "$T/eval2" ||
        fail "zspace eval of the round-tripped model"
    grep -v '^seconds' "$T/eval" > "$T/e1"
    grep -v '^seconds' "$T/eval2" > "$T/e2"
    cmp -s "$T/e1" "$T/e2" || fail "the round-tripped model evaluates differently"
    echo "package_test: the installed tools/export_torch.py round-trips the installed model"
fi
if command -v xvfb-run >/dev/null; then
    # While it runs, the files it has mapped or open show where it found its data (shaders,
    # font and data come from one root, src/app/paths.c): the gallery it maps must be the
    # installed one (or --data-dir's), and nothing may come from the source tree the build
    # recorded.
    printf 'sync\nprint state\nscreenshot %s/shot.png\nsleep 1500\nquit\n' "$T" > "$T/script"
    gui() {   # gui OUT [options]: OUT (stdout+stderr) and OUT.files (what it had mapped or open)
        out=$1
        shift
        xvfb-run -a sh -c 'o=$1; shift; "$@" > "$o" 2>&1 & p=$!; i=0
            while [ $i -lt 100 ] && grep -q . /proc/$p/maps 2>/dev/null && ! grep -q gallery.zsf /proc/$p/maps
            do sleep 0.1; i=$((i + 1)); done   # (a process that has exited has empty maps)
            { cat /proc/$p/maps; ls -l /proc/$p/fd; } 2>/dev/null | grep -o "/[^ ]*" | sort -u > "$o.files"
            wait $p' sh "$out" $Z gui --script "$T/script" "$@"
    }
    gui "$T/gui" || { cat "$T/gui"; fail "the installed explorer"; }
    grep -q '^state .*attrs=1 .*shown=[1-9]' "$T/gui" || fail "the installed explorer showed no face: $(cat "$T/gui")"
    [ -s "$T/shot.png" ] || fail "the installed explorer wrote no screenshot"
    grep -qx /usr/share/zspace/data/gallery.zsf "$T/gui.files" || fail "the explorer did not map the installed gallery"
    ! grep -q "^$SRC/" "$T/gui.files" || fail "the installed explorer used files of the source tree"
    cp -r /usr/share/zspace "$T/alt"
    gui "$T/gui_alt" --data-dir "$T/alt" || { cat "$T/gui_alt"; fail "the explorer with --data-dir"; }
    grep -q '^state .*attrs=1 .*shown=[1-9]' "$T/gui_alt" || fail "--data-dir: no face shown: $(cat "$T/gui_alt")"
    grep -qx "$T/alt/data/gallery.zsf" "$T/gui_alt.files" || fail "--data-dir: the gallery did not come from it"
    if gui "$T/gui_none" --data-dir "$T/nowhere"; then
        fail "the explorer started with --data-dir naming a missing directory"
    fi
    grep -q "$T/nowhere/shaders" "$T/gui_none" || fail "--data-dir: the error does not name the directory"
    echo "package_test: the installed explorer rendered a face from /usr/share/zspace; --data-dir D reads D"
fi

# ---- 5. remove
cd "$SRC"
dpkg -r zspace >/dev/null || fail "dpkg -r zspace"
installed=0
[ ! -e /usr/bin/zspace ] || fail "/usr/bin/zspace is still there after removing the package"
[ ! -e /usr/share/zspace ] || fail "removing the package left /usr/share/zspace: $(find /usr/share/zspace | head -n 5)"
echo "package_test: ok"
