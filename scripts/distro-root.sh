# scripts/distro-root.sh: sourced by the runners that test a built package on another
# distribution's toolchain (bindings/python/test-versions: CPython 3.12 to 3.15;
# bindings/csharp/test-dotnet: the .NET SDK). This machine is Debian 12; those toolchains come
# from the distributions' own packages, installed by debootstrap into roots under
# target/distro-roots/ (kept between runs). Needs root.
#
#   distro_root NAME PACKAGES          prints the root's path after making it if needed.
#     NAME: sid-<tag> (Debian unstable) or noble-<tag> (Ubuntu 24.04); PACKAGES: a comma list.
#     A root made without one of PACKAGES is made again (with PACKAGES only).
#   in_root ROOT [VAR=VALUE...] COMMAND...
#     runs COMMAND in ROOT through chroot, in a private mount namespace (unshare: no mount
#     outlives it) with /proc, /dev, a fresh /dev/shm and /tmp, the repository bind-mounted
#     read-only at /repo, and an environment of PATH, HOME, LANG and the VAR=VALUEs only.
#
# Ubuntu's archive key comes from Debian's own ubuntu-keyring package, fetched by a Debian
# unstable root's apt, so both archives are checked against keys Debian signed. Debian 12's
# debootstrap predates noble; Ubuntu's suites all share its gutsy script.

distro_roots=${DISTRO_ROOTS:-$PWD/target/distro-roots}

distro_root() {
  local name=$1 packages=$2 dir=$distro_roots/$1 suite mirror args=()
  if [[ -f $dir/.ready ]] && has_packages "$dir" "$packages"; then
    echo "$dir"
    return 0
  fi
  case $name in
    sid-*) suite=sid mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian} ;;
    noble-*)
      suite=noble mirror=${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
      ubuntu_keyring >&2 || return 1
      args=(--components=main,universe --keyring="$distro_roots/ubuntu-archive-keyring.gpg")
      ;;
    *) echo "distro_root: unknown root $name" >&2; return 1 ;;
  esac
  command -v debootstrap >/dev/null 2>&1 || {
    echo "=== distro roots: installing debootstrap (apt-get)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  } || return 1
  echo "=== distro roots: debootstrap $suite into $dir ($packages)" >&2
  rm -rf "$dir"
  mkdir -p "$distro_roots"
  local script=()
  [[ $suite == noble ]] && script=(/usr/share/debootstrap/scripts/gutsy)
  if ! debootstrap --variant=minbase --include="$packages" "${args[@]}" "$suite" "$dir" "$mirror" \
    "${script[@]}" >"$dir.log" 2>&1; then
    tail -20 "$dir.log" >&2
    return 1
  fi
  echo "$packages" >"$dir/.ready"
  echo "$dir"
}

# has_packages DIR PACKAGES: whether DIR was made with (at least) every one of PACKAGES.
has_packages() {
  local p
  for p in ${2//,/ }; do grep -qx "$p" <(tr , '\n' <"$1/.ready") || return 1; done
}

# Ubuntu's archive keyring, from Debian unstable's ubuntu-keyring package.
ubuntu_keyring() {
  local keyring=$distro_roots/ubuntu-archive-keyring.gpg sid unpacked
  [[ -s $keyring ]] && return 0
  # Any Debian unstable root will do (test-versions makes one first); else a small one.
  sid=$(ls -d "$distro_roots"/sid-*/.ready 2>/dev/null | head -1)
  if [[ -n $sid ]]; then sid=$(dirname "$sid"); else sid=$(distro_root sid-keyring ca-certificates) || return 1; fi
  cp /etc/resolv.conf "$sid/etc/resolv.conf"
  # A mirror's sid Release file may be past its Valid-Until; the packages are still signed.
  chroot "$sid" sh -c 'cd /tmp && rm -f ubuntu-keyring_*.deb &&
    apt-get -qq -o Acquire::Check-Valid-Until=false update &&
    apt-get -qq -o Acquire::Check-Valid-Until=false download ubuntu-keyring' >/dev/null || return 1
  unpacked=$(mktemp -d)
  dpkg-deb -x "$sid"/tmp/ubuntu-keyring_*.deb "$unpacked" &&
    cp "$unpacked/usr/share/keyrings/ubuntu-archive-keyring.gpg" "$keyring"
  local rc=$?
  rm -rf "$unpacked"
  return $rc
}

in_root() {
  local root=$1 repo=$PWD
  shift
  unshare --mount --propagation private bash -c '
    root=$1 repo=$2
    shift 2
    mount --bind /proc "$root/proc" && mount --bind /dev "$root/dev" &&
      mount -t tmpfs tmpfs "$root/dev/shm" && mount -t tmpfs tmpfs "$root/tmp" &&
      mkdir -p "$root/repo" && mount --bind "$repo" "$root/repo" &&
      mount -o remount,bind,ro "$root/repo" || exit 1
    exec chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"
  ' _ "$root" "$repo" "$@"
}
