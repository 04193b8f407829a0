#!/usr/bin/env bash
# run.sh BUILD_DIR TMPDIR - installs the build into TMPDIR/prefix (cmake --install
# --prefix) and checks the tree: the binary, libclgan.so with its soname, libclgan.a, the
# headers, clgan.pc, the CMake package and share/clgan. Then builds tests/install/
# consumer.c outside the source tree through pkg-config and through find_package(clgan)
# (shared and static) and runs each; moves the tree and runs the binary and a consumer
# again, to show the installed files are found relative to where they are.
set -u
build=$1 tmp=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$tmp" && mkdir -p "$tmp/out"
fail=0 passed=0
check() { # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
pc=$(find "$prefix" -name clgan.pc)
libdir=$(dirname "$(dirname "$pc")")
check "bin/clgan" test -x "$prefix/bin/clgan"
check "libclgan.so, .so.0 and .a" test -f "$libdir/libclgan.a" -a -L "$libdir/libclgan.so" -a -e "$libdir/libclgan.so.0"
check "soname libclgan.so.0" bash -c "readelf -d '$libdir/libclgan.so' | grep -q 'SONAME.*libclgan.so.0'"
check "kernels embedded in the .so" grep -q "__kernel" "$libdir/libclgan.so"
check "headers" test -f "$prefix/include/clgan/clgan.h" -a -f "$prefix/include/clgan/version.h" -a -f "$prefix/include/clgan/gan.h"
check "CMake package" test -f "$libdir/cmake/clgan/clgan-config.cmake" -a -f "$libdir/cmake/clgan/clgan-config-version.cmake"
check "shipped files" test -f "$prefix/share/clgan/presets/wgan.ini" -a -f "$prefix/share/clgan/classifier/mnist.safetensors" -a -f "$prefix/share/clgan/data/train-images-idx3-ubyte.gz"
check "no private headers installed" test -z "$(find "$prefix/include" -name '*internal*')"

# pkg-config, the shared library (rpath so the test needs no LD_LIBRARY_PATH).
export PKG_CONFIG_PATH=$libdir/pkgconfig
check "pkg-config knows clgan" test "$(pkg-config --modversion clgan)" = "$("$prefix/bin/clgan" --version | sed -n '1s/^clgan \([^ ]*\).*/\1/p')"
cp "$here/consumer.c" "$tmp/"
check "build through pkg-config" cc -std=c11 -Wall -o "$tmp/consumer_pc" "$tmp/consumer.c" \
  $(pkg-config --cflags --libs clgan) -lm -Wl,-rpath,"$libdir"
check "consumer (pkg-config, shared) runs" "$tmp/consumer_pc" "$prefix" "$tmp/out"
check "it ran on the installed libclgan.so" bash -c "'$tmp/consumer_pc' '$prefix' '$tmp/out' | grep -q 'clgan_version is in $libdir/libclgan.so'"
check "the headers compile as C++" bash -c "echo '#include <clgan/clgan.h>' | c++ -fsyntax-only -x c++ $(pkg-config --cflags clgan) -"

# CMake: find_package(clgan) -> clgan::clgan and clgan::clgan_static.
cp "$here/CMakeLists.txt" "$tmp/"
if cmake -S "$tmp" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 &&
   cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1; then passed=$((passed + 1))
else echo "FAIL: build through find_package(clgan)"; cat "$tmp/cmake.log"; fail=$((fail + 1)); fi
check "consumer (CMake, clgan::clgan) runs" "$tmp/cmake-build/consumer_shared" "$prefix" "$tmp/out"
check "consumer (CMake, clgan::clgan_static) runs" "$tmp/cmake-build/consumer_static" - "$tmp/out"
check "the static consumer does not load libclgan.so" bash -c "! ldd '$tmp/cmake-build/consumer_static' | grep -q libclgan"

# Move the installed tree: the library and the binary find share/clgan where it now is.
mv "$prefix" "$tmp/moved"
moved=$tmp/moved libmoved=$tmp/moved/${libdir#"$prefix"/}
check "moved tree: the consumer finds its files" env LD_LIBRARY_PATH="$libmoved" "$tmp/cmake-build/consumer_shared" "$moved" "$tmp/out"
check "moved tree: clgan help presets reads them there" bash -c "'$moved/bin/clgan' help presets | grep -q 'from $moved/share/clgan/presets'"
check "moved tree: clgan train --preset wgan" "$moved/bin/clgan" train --preset wgan --iterations 2 --batch 8 \
  --layers-g 16 --layers-d 16 --eval-every 0 --sample-every 0 --out "$tmp/out/run" >/dev/null 2>&1
echo "install_consumer: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
