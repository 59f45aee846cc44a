#!/usr/bin/env bash
# make install into a temporary DESTDIR from an existing build (default .build/debug, which make test
# has just built), checks what landed there, then make uninstall, which must leave nothing; then the
# configuration rule: uninstall keeps a config.ini that was edited, and install never replaces one.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-.build/debug}
started=$SECONDS
checks=0

fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); }
[ -x "$build/ferry" ] && [ -x "$build/ferryd" ] || fail "no $build/ferry or ferryd: build first (make build)"

dest=$(mktemp -d /tmp/ferry-test-install.XXXXXX)
trap 'rm -rf "$dest" "$dest".*' EXIT
prefix=/usr/local
root=$dest$prefix
make_install() { make --no-print-directory -s "$@" DESTDIR="$dest" BUILD_DIR="$build" PREFIX="$prefix"; }

make_install install >"$dest.log" 2>&1 || { cat "$dest.log" >&2; rm -f "$dest.log"; fail "make install"; }
rm -f "$dest.log"

# The binaries run.
version=$("$build/ferry" --version)
[ "$("$root/bin/ferry" --version)" = "$version" ] || fail "installed ferry --version"
[ "$("$root/bin/ferryd" --version)" = "$version" ] || fail "installed ferryd --version"
ok

# Man pages: one per command and subcommand, each with its section in its title line, and each renders
# without a warning.
for page in man1/ferry.1 man1/ferry.get.1 man1/ferry.put.1 man1/ferry.ls.1 man1/ferry.stat.1 man1/ferry.sum.1 \
    man1/ferry.shell.1 man8/ferryd.8 man8/ferryd.serve.8 man8/ferryd.adduser.8 man8/ferryd.fingerprint.8; do
    [ -s "$root/share/man/$page" ] || fail "no man page $page"
done
for page in "$root"/share/man/man*/*; do
    name=$(basename "$page") section=${page##*.}
    title=$(echo "${name%.*}" | tr '[:lower:]' '[:upper:]')
    grep -qx "\.Dt $title $section" "$page" || grep -q "^\.TH \"\?$title\"\? \"\?$section" "$page" \
        || fail "$name: no title line for section $section"
    if command -v groff >/dev/null; then
        warnings=$(groff -mandoc -Tutf8 -ww -z "$page" 2>&1) || fail "$name: groff failed: $warnings"
        [ -z "$warnings" ] || fail "$name: groff warns: $warnings"
    fi
    ok
done
if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$root/share/man/man1/ferry.get.1" 2>/dev/null | grep -q -- "--no-resume" \
        || fail "man -l ferry.get.1 does not show --no-resume"
    ok
fi

# Completions: each shell's script for each binary, naming the subcommands; bash's completes "ferry g".
for name in ferry ferryd; do
    bash_script=$root/share/bash-completion/completions/$name
    grep -q "^complete .*-F [^ ]* $name\$" "$bash_script" || fail "$bash_script has no complete -F"
    grep -q "#compdef $name" "$root/share/zsh/site-functions/_$name" || fail "_$name has no #compdef"
    grep -q "complete -c '\?$name" "$root/share/fish/vendor_completions.d/$name.fish" || fail "$name.fish completes nothing"
    ok
done
grep -q "adduser" "$root/share/zsh/site-functions/_ferryd" || fail "_ferryd does not know adduser"
words=$(bash -c 'source "$1"; COMP_LINE="ferry g"; COMP_POINT=7; COMP_WORDS=(ferry g); COMP_CWORD=1
    fn=$(complete -p ferry | sed "s/.*-F \([^ ]*\) .*/\1/"); "$fn" ferry g ferry; echo "${COMPREPLY[*]}"' _ \
    "$root/share/bash-completion/completions/ferry")
[ "$words" = get ] || fail "bash completion of 'ferry g' gave '$words', not 'get'"
ok

# The systemd unit: paths substituted, and systemd-analyze verify (on a copy whose binaries are those
# in DESTDIR) has nothing to say.
unit=$root/lib/systemd/system/ferryd.service
! grep -n "@[A-Z]*@" "$unit" || fail "ferryd.service has placeholders left"
grep -qx "ExecStart=$prefix/bin/ferryd serve --config /etc/ferry/config.ini" "$unit" || fail "ferryd.service ExecStart"
ok
if command -v systemd-analyze >/dev/null; then
    mkdir "$dest.verify"
    sed "s|$prefix/bin/|$root/bin/|g" "$unit" >"$dest.verify/ferryd.service"
    report=$(systemd-analyze verify --man=no "$dest.verify/ferryd.service" 2>&1) || true
    rm -rf "$dest.verify"
    [ -z "$report" ] || fail "systemd-analyze verify ferryd.service: $report"
    ok
fi

# The configuration: installed, and what the unit's first start does with it works: ExecStartPre makes
# the key (here in a stand-in for /var/lib/ferry), and ferryd reads the config and finds that key.
config=$dest/etc/ferry/config.ini
[ -f "$config" ] || fail "no /etc/ferry/config.ini"
! grep -n "@[A-Z]*@" "$config" || fail "config.ini has placeholders left"
state=$dest/var-lib-ferry
mkdir -p "$state/share"
sed "s|/var/lib/ferry|$state|g; s|/var/cache/ferry|$dest/var-cache-ferry|; s|/var/log/ferry|$dest|" "$config" >"$dest/config-here.ini"
keygen=$(sed -n "s|^ExecStartPre=/bin/sh -c '\(.*\)'\$|\1|p" "$unit" | sed "s|/var/lib/ferry|$state|g; s|$prefix/bin/|$root/bin/|g")
made=$(sh -c "$keygen" 2>/dev/null) || fail "ExecStartPre (the key) failed"
[ -f "$state/ferryd.key" ] && [ -f "$state/ferryd.crt" ] && [ ! -e "$state/keygen.ini" ] || fail "ExecStartPre made no key"
[ "$("$root/bin/ferryd" fingerprint --config "$dest/config-here.ini")" = "$made" ] || fail "ferryd fingerprint with the shipped config"
[ -z "$(sh -c "$keygen")" ] || fail "ExecStartPre made a second key"
rm -rf "$state" "$dest/config-here.ini"
ok

# A second install over the first changes nothing and lists nothing twice.
manifest=$root/share/ferry/install-manifest
cp "$manifest" "$dest.manifest"
make_install install >/dev/null
cmp -s "$manifest" "$dest.manifest" || { diff "$dest.manifest" "$manifest" >&2; rm -f "$dest.manifest"; fail "a second install changed the manifest"; }
rm -f "$dest.manifest"
ok

# Uninstall removes everything install made, directories included.
make_install uninstall >/dev/null
left=$(cd "$dest" && find . -mindepth 1)
[ -z "$left" ] || fail "uninstall left: $left"
ok

# An edited configuration survives uninstall, and install does not replace it.
make_install install >/dev/null
echo "# edited" >>"$config"
make_install uninstall >/dev/null
left=$(cd "$dest" && find . -mindepth 1 -not -type d)
[ "$left" = ./etc/ferry/config.ini ] || fail "uninstall after an edit left: $left"
make_install install >/dev/null
tail -1 "$config" | grep -qx "# edited" || fail "install replaced an edited config.ini"
make_install uninstall >/dev/null
left=$(cd "$dest" && find . -mindepth 1 -not -type d)
[ "$left" = ./etc/ferry/config.ini ] || fail "uninstall removed a config.ini it had not installed"
ok

echo "test-install: all $checks checks ok ($((SECONDS - started)) s)"
