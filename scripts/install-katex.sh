#!/bin/sh
# Install KaTeX from the npm registry into the app's static folder (served at /static/katex).
# Usage: scripts/install-katex.sh VERSION SHA512_BASE64 TARGET_DIR
# The tarball's sha512 is checked against the pinned value, so a changed package fails loudly.
set -eu

version="$1"
integrity="$2"
target="$3"

if ! command -v npm >/dev/null 2>&1; then
    echo "install-katex: npm is missing; installing it with apt" >&2
    # A fresh machine may have no package lists yet: update first.
    if [ "$(id -u)" = 0 ]; then
        apt-get update >/dev/null && apt-get install -y npm >/dev/null
    else
        sudo -n sh -c 'apt-get update >/dev/null && apt-get install -y npm >/dev/null'
    fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "katex@$version" --silent >/dev/null)
tarball="$work/katex-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
    echo "install-katex: katex-$version.tgz has $actual, expected $integrity" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$work"

# Only what the pages load: the script, auto-render, the stylesheet and its fonts.
staged="$work/katex"
mkdir -p "$staged/contrib"
cp "$work/package/dist/katex.min.js" "$work/package/dist/katex.min.css" "$staged/"
cp "$work/package/dist/contrib/auto-render.min.js" "$staged/contrib/"
cp -R "$work/package/dist/fonts" "$staged/fonts"
cp "$work/package/LICENSE" "$staged/LICENSE"
echo "$version" > "$staged/VERSION"
rm -rf "$target"
mkdir -p "$(dirname "$target")"
mv "$staged" "$target"
echo "install-katex: KaTeX $version in $target" >&2
