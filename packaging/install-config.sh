#!/bin/sh
# meson install: CONF DIR -> DIR/siphon.conf (under $DESTDIR), unless one is there.
set -eu
dest="${DESTDIR:-}$2/siphon.conf"
if [ -e "$dest" ]; then
	echo "siphon: keeping $dest (the example is in share/doc/siphon/examples)"
else
	install -D -m 0644 "$1" "$dest"
	echo "siphon: installed $dest"
fi
