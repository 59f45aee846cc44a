#!/usr/bin/env bash
# What `make install` and `make uninstall` run (the Makefile passes the directories as variables).
#   install.sh install     makes the man pages and completion scripts from the binaries in FROM, into
#                          GENERATED (again only when the binaries change), then installs binaries, man
#                          pages, completions, the systemd unit and (if absent) the configuration under
#                          DESTDIR, and records every path in MANIFEST
#   install.sh generate    only the first step (make install-prepare: as yourself, before sudo make install)
#   install.sh uninstall   removes exactly what MANIFEST lists
# The manifest has one line per path, without DESTDIR: "f PATH" a file, "d PATH" a directory install
# made (removed only if empty), "c SHA256 PATH" the configuration, removed only if its content is still
# what was installed (an administrator's edit, `ferryd adduser` included, keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "install.sh: $*" >&2; exit 1; }
: "${DESTDIR=}" "${PREFIX:=/usr/local}" "${BINDIR:=$PREFIX/bin}" "${DATADIR:=$PREFIX/share}" "${MANDIR:=$DATADIR/man}"
: "${SYSCONFDIR:=/etc}" "${UNITDIR:=$PREFIX/lib/systemd/system}"
: "${BASHCOMPDIR:=$DATADIR/bash-completion/completions}" "${ZSHCOMPDIR:=$DATADIR/zsh/site-functions}"
: "${FISHCOMPDIR:=$DATADIR/fish/vendor_completions.d}" "${MANIFEST:=$DATADIR/ferry/install-manifest}"
: "${FROM:=.build/release}" "${GENERATED:=$FROM/generated}" "${SWIFT:=swift}"
CONFIGDIR=$SYSCONFDIR/ferry
CONFIG=$CONFIGDIR/config.ini

generate() {
    local scratch configuration out date page name
    scratch=$(dirname "$FROM") configuration=$(basename "$FROM")
    case $configuration in debug|release) ;; *) die "BUILD_DIR must be SCRATCH/debug or SCRATCH/release, as swift build makes it, not $FROM" ;; esac
    for name in ferry ferryd; do [ -x "$FROM/$name" ] || die "no $FROM/$name: build it first"; done
    rm -rf "$GENERATED" "$scratch/plugins/GenerateManual/outputs"
    mkdir -p "$GENERATED/man1" "$GENERATED/man8" "$GENERATED/completions"

    # swift-argument-parser's generate-manual plugin: it builds the package in this configuration (a
    # no-op when it is built), then runs its tool on each executable's --experimental-dump-help. The
    # date is the last commit's, so the same source makes the same pages.
    echo "install.sh: man pages (swift package plugin generate-manual; its first run builds the tool)"
    date=$(git log -1 --format=%cs 2>/dev/null || true)
    if ! "$SWIFT" package --scratch-path "$scratch" plugin generate-manual --configuration "$configuration" \
        --multi-page ${date:+--date "$date"} >"$GENERATED/generate-manual.log" 2>&1; then
        cat "$GENERATED/generate-manual.log" >&2
        die "generate-manual failed"
    fi
    out=$scratch/plugins/GenerateManual/outputs
    cp "$out"/ferry/*.1 "$GENERATED/man1/"
    # ferryd is a daemon and its subcommands are an administrator's: section 8, like sshd's. The
    # plugin gives every executable one section, so move ferryd's pages (title line and cross-references).
    for page in "$out"/ferryd/*.1; do
        name=$(basename "$page" .1)
        sed -e 's/^\.Dt \(FERRYD[^ ]*\) 1$/.Dt \1 8/' -e 's/^\.Xr \(ferryd[^ ]*\) 1/.Xr \1 8/' "$page" >"$GENERATED/man8/$name.8"
    done

    for name in ferry ferryd; do
        "$FROM/$name" --generate-completion-script bash >"$GENERATED/completions/$name.bash"
        "$FROM/$name" --generate-completion-script zsh >"$GENERATED/completions/_$name"
        "$FROM/$name" --generate-completion-script fish >"$GENERATED/completions/$name.fish"
    done
    touch "$GENERATED/stamp"
}

generate_if_stale() {
    local stamp=$GENERATED/stamp
    if [ ! -f "$stamp" ] || [ "$FROM/ferry" -nt "$stamp" ] || [ "$FROM/ferryd" -nt "$stamp" ] || [ scripts/install.sh -nt "$stamp" ]; then
        generate
    fi
}

# install: every path goes through record(), into a manifest that starts from the previous one, so a
# second install over the first still lists the directories the first one made.
entries=()
record() { entries+=("$*"); }

# Makes the directory and any missing parents, recording those it made.
directory() {
    local path=$1 missing=()
    while [ -n "$path" ] && [ "$path" != / ] && [ ! -d "$DESTDIR$path" ]; do
        missing=("$path" "${missing[@]}")
        path=$(dirname "$path")
    done
    for path in "${missing[@]}"; do
        mkdir "$DESTDIR$path"
        record d "$path"
    done
}

# put MODE SOURCE PATH: installs SOURCE as PATH (under DESTDIR).
put() {
    directory "$(dirname "$3")"
    install -m "$1" "$2" "$DESTDIR$3"
    record f "$3"
}

substitute() {
    sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@CONFIGDIR@|$CONFIGDIR|g" -e "s|@CONFIG@|$CONFIG|g" -e "s|@UNITDIR@|$UNITDIR|g" "$1"
}

install_all() {
    local page name
    generate_if_stale
    for path in "$PREFIX" "$BINDIR" "$MANDIR" "$SYSCONFDIR" "$UNITDIR" "$MANIFEST"; do
        case $path in /*) ;; *) die "$path: PREFIX and the directories must be absolute paths" ;; esac
    done
    [ -z "$DESTDIR" ] || mkdir -p "$DESTDIR"
    if [ -f "$DESTDIR$MANIFEST" ]; then
        while IFS= read -r line; do
            case $line in '#'*|'') ;; *) entries+=("$line") ;; esac
        done <"$DESTDIR$MANIFEST"
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT

    put 0755 "$FROM/ferry" "$BINDIR/ferry"
    put 0755 "$FROM/ferryd" "$BINDIR/ferryd"
    for page in "$GENERATED"/man1/*.1; do put 0644 "$page" "$MANDIR/man1/$(basename "$page")"; done
    for page in "$GENERATED"/man8/*.8; do put 0644 "$page" "$MANDIR/man8/$(basename "$page")"; done
    for name in ferry ferryd; do
        put 0644 "$GENERATED/completions/$name.bash" "$BASHCOMPDIR/$name"
        put 0644 "$GENERATED/completions/_$name" "$ZSHCOMPDIR/_$name"
        put 0644 "$GENERATED/completions/$name.fish" "$FISHCOMPDIR/$name.fish"
    done
    substitute dist/ferryd.service.in >"$tmp/ferryd.service"
    put 0644 "$tmp/ferryd.service" "$UNITDIR/ferryd.service"

    # The configuration only if there is none: an administrator's file is never replaced.
    if [ -e "$DESTDIR$CONFIG" ]; then
        echo "install.sh: keeping the existing $DESTDIR$CONFIG"
    else
        substitute dist/config.ini.in >"$tmp/config.ini"
        directory "$CONFIGDIR"
        install -m 0644 "$tmp/config.ini" "$DESTDIR$CONFIG"
        local kept=()
        for line in "${entries[@]}"; do [[ $line == "c "*" $CONFIG" ]] || kept+=("$line"); done
        entries=("${kept[@]}")
        record c "$(sha256sum <"$DESTDIR$CONFIG" | cut -d' ' -f1)" "$CONFIG"
        echo "install.sh: installed $DESTDIR$CONFIG (no users yet: ferryd adduser NAME --config $CONFIG)"
    fi

    directory "$(dirname "$MANIFEST")"
    {
        echo "# Installed by Ferry's make install; make uninstall removes these. f: file, d: directory made by"
        echo "# install (removed if empty), c: configuration (removed only if it still has this SHA-256)."
        printf '%s\n' "${entries[@]}" | awk '!seen[$0]++'
    } >"$tmp/manifest"
    install -m 0644 "$tmp/manifest" "$DESTDIR$MANIFEST"
    echo "install.sh: installed into ${DESTDIR:-/} under $PREFIX; list in $DESTDIR$MANIFEST"
}

uninstall_all() {
    local manifest=$DESTDIR$MANIFEST kind rest hash path line directories=()
    [ -f "$manifest" ] || die "no $manifest: nothing installed with PREFIX=$PREFIX DESTDIR=$DESTDIR"
    while IFS= read -r line; do
        case $line in '#'*|'') continue ;; esac
        kind=${line%% *} rest=${line#* }
        [ "$kind" = c ] && { hash=${rest%% *} path=${rest#* }; } || path=$rest
        case $path in /*/../*|*/..|*/./*) die "$manifest: refusing the path $path" ;; /?*) ;; *) die "$manifest: not an absolute path: $path" ;; esac
        case $kind in
            f) rm -f "$DESTDIR$path" ;;
            d) directories=("$path" "${directories[@]}") ;;
            c)
                if [ ! -e "$DESTDIR$path" ]; then :
                elif [ "$(sha256sum <"$DESTDIR$path" | cut -d' ' -f1)" = "$hash" ]; then rm -f "$DESTDIR$path"
                else echo "install.sh: keeping $DESTDIR$path: it changed since it was installed"
                fi ;;
            *) die "$manifest: unknown line: $line" ;;
        esac
    done <"$manifest"
    rm -f "$manifest"
    # Deepest first; a directory that holds anything else (a kept configuration) stays.
    for path in "${directories[@]}"; do rmdir "$DESTDIR$path" 2>/dev/null || true; done
    echo "install.sh: uninstalled from ${DESTDIR:-/} under $PREFIX"
}

case ${1:-} in
    generate) generate_if_stale ;;
    install) install_all ;;
    uninstall) uninstall_all ;;
    *) die "usage: install.sh generate|install|uninstall (run through make)" ;;
esac
