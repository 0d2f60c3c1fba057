#!/usr/bin/env bash
# Builds the booth's Debian package, evisa_VERSION_ARCH.deb, with dpkg-deb alone (no
# cargo-deb to install): the `evisa` binary, the kiosk's systemd unit, the udev
# rules, /etc/evisa/kiosk.toml (no keys), the documentation and the maintainer
# scripts. The ministry's tools (`evisa-issuer`: signing, test keys, fixtures) are
# NOT in it: they never go on a booth.
#
#   packaging/build-deb.sh [--binary FILE] [--out DIR] [--fast]
#
# Without --binary it builds `evisa` with `cargo build --release --locked`. --fast
# compresses with gzip -1 instead of dpkg-deb's xz (for tests; a debug binary takes
# half a minute to xz). Prints the path of the package it wrote.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

binary=""
out="$root/target/debian"
compress=()
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --fast) compress=(-Zgzip -z1); shift ;;
        *) echo "usage: $0 [--binary FILE] [--out DIR] [--fast]" >&2; exit 2 ;;
    esac
done
for tool in dpkg-deb dpkg; do
    command -v "$tool" >/dev/null || { echo "$0: needs $tool (apt-get install dpkg-dev)" >&2; exit 2; }
done
if [ -z "$binary" ]; then
    (cd "$root" && cargo build --release --locked --bin evisa)
    binary="$root/target/release/evisa"
fi
[ -x "$binary" ] || { echo "$0: $binary is not an executable" >&2; exit 2; }

version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")"
[ -n "$version" ] || { echo "$0: no [workspace.package] version in Cargo.toml" >&2; exit 2; }
arch="$(dpkg --print-architecture)"
# The newest glibc symbol version the binary needs (SQLite is bundled; libc is all
# it links dynamically).
glibc=""
if command -v objdump >/dev/null; then
    glibc="$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1 || true)"
fi
depends="adduser, libc6${glibc:+ (>= $glibc)}"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# Modes are set explicitly: the checkout's umask must not leak into the package.
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/lib/systemd/system" \
    "$stage/lib/udev/rules.d" "$stage/etc/evisa" "$stage/usr/share/doc/evisa"
install -m 0755 "$binary" "$stage/usr/bin/evisa"
install -m 0644 "$here/evisa.service" "$stage/lib/systemd/system/evisa.service"
install -m 0644 "$here/60-evisa.rules" "$stage/lib/udev/rules.d/60-evisa.rules"
# The configuration: readable by the service user only (postinst sets the group).
install -m 0640 "$here/kiosk.toml" "$stage/etc/evisa/kiosk.toml"
install -m 0644 "$root/docs/install.md" "$root/kiosk.example.toml" "$root/README.md" \
    "$stage/usr/share/doc/evisa/"
for s in postinst prerm postrm; do
    install -m 0755 "$here/debian/$s" "$stage/DEBIAN/$s"
done
echo /etc/evisa/kiosk.toml > "$stage/DEBIAN/conffiles"
size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: evisa
Version: $version
Architecture: $arch
Maintainer: evisa booth team <evisa@localhost>
Installed-Size: $size
Depends: $depends
Section: misc
Priority: optional
Description: Kazakhstan e-visa verification booth (kiosk, doctor)
 The border-checkpoint terminal: checks an e-visa QR (Ed25519-signed COSE) against
 the passport MRZ, records crossings and a hash-chained audit log in SQLite, and
 runs full screen on tty1 as the evisa user (systemd unit evisa.service, installed
 disabled). The doctor command (evisa doctor) checks an installed booth. No keys
 are included, and the ministry's signing tools (evisa-issuer) are not part of
 this package.
CONTROL

mkdir -p "$out"
deb="$out/evisa_${version}_${arch}.deb"
dpkg-deb --root-owner-group "${compress[@]}" --build "$stage" "$deb" >/dev/null
echo "$deb"
