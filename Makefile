# Builds and installs the C library the way C libraries install:
#
#   make                          cargo build --release: target/release/libasyncop.so (SONAME
#                                 libasyncop.so.0, set by build.rs) and libasyncop.a
#   make install PREFIX=/opt/x    installs (DESTDIR is honoured, for staging and packaging)
#                                   $(LIBDIR)/libasyncop.so.X.Y.Z  the shared library
#                                   $(LIBDIR)/libasyncop.so.X      -> libasyncop.so.X.Y.Z (SONAME)
#                                   $(LIBDIR)/libasyncop.so        -> libasyncop.so.X (linking)
#                                   $(LIBDIR)/libasyncop.a         the static library
#                                   $(INCLUDEDIR)/asyncop.h        the header
#                                   $(PKGCONFIGDIR)/asyncop.pc     for pkg-config
#   make uninstall PREFIX=/opt/x  removes exactly those files
#
# X.Y.Z is Cargo.toml's package version (the header's ASYNCOP_VERSION_* say the same).
# After installing into a system directory as root, run `ldconfig` (this Makefile does not,
# like autotools' and CMake's installs). Tested by tests/c-install/run.

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
CARGO ?= cargo
INSTALL ?= install
# The native libraries a static link of libasyncop.a needs on Linux (what
# `cargo rustc --lib --crate-type staticlib -- --print native-static-libs` prints);
# they go to asyncop.pc's Libs.private, for `pkg-config --static --libs asyncop`.
NATIVE_STATIC_LIBS ?= -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
RELEASE := $(TARGET_DIR)/release
# The package version as cargo reads it ("path+file:///...#asyncop@0.1.0").
VERSION := $(lastword $(subst @, ,$(subst \#, ,$(shell $(CARGO) pkgid --quiet -p asyncop))))
MAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME := libasyncop.so.$(MAJOR)
REALNAME := libasyncop.so.$(VERSION)
# asyncop.pc names directories under the prefix as ${prefix}/..., as pkg-config files do.
PC_LIBDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

.PHONY: all build install uninstall print-version

all: build

# cargo decides what is stale. The SONAME link in target/release lets a program linked
# there with -Ltarget/release -lasyncop find its NEEDED libasyncop.so.0 at run time.
build:
	@test -n "$(VERSION)" || { echo "could not read the package version (cargo pkgid)" >&2; exit 1; }
	$(CARGO) build --release --lib
	ln -sf libasyncop.so $(RELEASE)/$(SONAME)

install: build
	$(INSTALL) -d "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(PKGCONFIGDIR)"
	$(INSTALL) -m 755 $(RELEASE)/libasyncop.so "$(DESTDIR)$(LIBDIR)/$(REALNAME)"
	ln -sf $(REALNAME) "$(DESTDIR)$(LIBDIR)/$(SONAME)"
	ln -sf $(SONAME) "$(DESTDIR)$(LIBDIR)/libasyncop.so"
	$(INSTALL) -m 644 $(RELEASE)/libasyncop.a "$(DESTDIR)$(LIBDIR)/libasyncop.a"
	$(INSTALL) -m 644 include/asyncop.h "$(DESTDIR)$(INCLUDEDIR)/asyncop.h"
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(PC_LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@NATIVE_STATIC_LIBS@|$(NATIVE_STATIC_LIBS)|' \
	    packaging/asyncop.pc.in >"$(DESTDIR)$(PKGCONFIGDIR)/asyncop.pc"
	chmod 644 "$(DESTDIR)$(PKGCONFIGDIR)/asyncop.pc"

uninstall:
	rm -f "$(DESTDIR)$(LIBDIR)/$(REALNAME)" "$(DESTDIR)$(LIBDIR)/$(SONAME)" \
	      "$(DESTDIR)$(LIBDIR)/libasyncop.so" "$(DESTDIR)$(LIBDIR)/libasyncop.a" \
	      "$(DESTDIR)$(INCLUDEDIR)/asyncop.h" "$(DESTDIR)$(PKGCONFIGDIR)/asyncop.pc"

print-version:
	@echo $(VERSION)
