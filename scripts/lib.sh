# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# What the scripts share. Sourced, not run, from the project root (each
# script does `cd "$(dirname "$0")/.."` first):
#   . scripts/lib.sh
# ipckern's results are read from its --format json (schema ipckern/2)
# with jq, never from --format csv: the CSV's error column is a quoted
# field that may hold commas, which a split on commas cuts apart, and
# its columns change as ipckern grows.
# Where the CSV's columns live in the JSON, relative to one result (every
# name: docs/vocabulary.md):
#   pin_a, pin_b        .pair.cpus[0], .pair.cpus[1]  (null if unpinned)
#   relation            .pair.relation
#   p50_ns              .latency.p50_ns
#   whole_run_mean_ns   .wall.whole_run_mean_ns      (ping-pong)
#   untimed_mean_ns     .wall.untimed_mean_ns        (ping-pong)
#   msgs_per_sec        .stream.msgs_per_sec         (stream)
#   bytes_per_sec       .stream.bytes_per_sec        (stream)
#   status, error       .status ("ok" | "error"), .error

# Where the binaries are: build/ in a checkout. Installed (cmake
# --install), the scripts are PREFIX/share/ipckern/scripts and the
# install wrote scripts/installed.sh, which sets ik (PREFIX/bin/ipckern)
# and ikx (PREFIX/libexec/ipckern: ik-ref-bounce and the other
# references the bench scripts compare with).
if [ -f scripts/installed.sh ]; then
	# shellcheck disable=SC1091 # written by cmake --install
	. scripts/installed.sh
else
	ik=build/ipckern ikx=build
fi

# ik_tool COMMAND [PACKAGE]: install PACKAGE (default: COMMAND) through
# scripts/deps unless COMMAND is on the PATH
ik_tool() {
	command -v "$1" >/dev/null || bash scripts/deps "${2:-$1}"
}

# ik_need [BINARY...]: build ipckern (scripts/setup) unless $ik and each
# named $ikx/BINARY (ik-ref-bounce, ...) are there (installed: fail
# naming the missing one, there is nothing to build); and jq, which
# every reader below runs
# shellcheck disable=SC2120 # BINARY... is optional
ik_need() {
	local b
	ik_tool jq
	for b in "$ik" "${@/#/$ikx/}"; do
		[ -x "$b" ] && continue
		if [ -f scripts/installed.sh ]; then
			echo "${0##*/}: $b is not installed" >&2
			exit 3
		fi
		bash scripts/setup
		return
	done
}

# ik_get PATH...: an ipckern --format json document on stdin; prints each
# jq PATH (e.g. .latency.p50_ns) of its first result on a line of its own,
# an empty line where the value is null (a failed result has no latency,
# wall or stream). Fails on anything but an ipckern/2 document with a
# result.
ik_get() {
	local p prog=""
	for p in "$@"; do
		prog+="${prog:+, }(\$r | $p | if . == null then \"\" else . end)"
	done
	jq -r "if .schema != \"ipckern/2\" or (.results | length) == 0
	       then error(\"not an ipckern/2 result\") else .results[0] end
	       | . as \$r | $prog"
}

# ik_python: print the interpreter the Python companions (scripts/py/)
# run on, after installing python3-uvloop through scripts/deps: the
# first of Debian's /usr/bin/python3 and python3 on the PATH that imports
# uvloop, else the first there is (the companions then say "uvloop: not
# installed"). A pyenv python3 on the PATH lacks Debian's packages.
ik_python() {
	local p
	bash scripts/deps python3 python3-uvloop >&2 ||
		echo "scripts/deps could not install python3-uvloop" >&2
	for p in /usr/bin/python3 "$(command -v python3 || true)"; do
		[ -x "$p" ] && "$p" -c 'import uvloop' 2>/dev/null && { echo "$p"; return; }
	done
	for p in /usr/bin/python3 "$(command -v python3 || true)"; do
		[ -x "$p" ] && { echo "$p"; return; }
	done
	echo "no python3 found" >&2
	return 1
}

# ik_small: true when IK_STUDY_SMALL=1 asks the study scripts for their
# small version (seconds, for CI: same code paths, tiny counts)
ik_small() {
	[ "${IK_STUDY_SMALL:-0}" = 1 ]
}

# ik_pair: the CPU pair ipckern picks itself (--pin auto: two cores
# sharing the most cache), as "A B"; fails if it pinned nothing. Quiet:
# ik_relation, which scripts call next, prints the warnings once.
ik_pair() {
	"$ik" --pin auto --method line --iters 10 --warmup 0 --format json \
		--quiet |
		ik_get '.pair.cpus // error("--pin auto pinned no pair")
			| "\(.[0]) \(.[1])"'
}

# ik_relation A B: how ipckern classes that pair (shared-l3, smt, ...);
# prints ipckern's environment warnings once, on stderr, so that the
# script's own runs can pass --quiet
ik_relation() {
	local j
	j=$("$ik" --pin "$1,$2" --method line --iters 10 --warmup 0 \
		--format json --quiet) || return
	jq -r '.warnings[]? | "ipckern: warning: \(.)"' <<<"$j" >&2
	ik_get .pair.relation <<<"$j"
}

# median: numbers on stdin, one a line -> their median (mean of the two
# middle ones for an even count)
median() {
	sort -g | awk '{v[NR]=$1} END{print (NR%2)? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

# median_of NUMBER...: the same, of the arguments
median_of() {
	printf '%s\n' "$@" | median
}

# ratio X Y: X / Y to three decimals
ratio() {
	awk -v x="$1" -v y="$2" 'BEGIN{printf "%.3f", x/y}'
}

# A study's -h/--help: print its header comment (from the "# Study:" line
# to the usage) and exit 0, instead of taking "--help" for OUT and running
# the whole study. Call as: ik_study_help "$0" "$@" (after the cd).
ik_study_help() {
	local self
	self=scripts/$(basename "$1")
	shift
	case ${1:-} in
	-h | --help)
		sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$self"
		exit 0
		;;
	-*)
		[ "$1" = --small ] && return 0
		echo "$self: '$1': not an OUT path (try --help)" >&2
		exit 2
		;;
	esac
}

# ik_here PATH: PATH as the user meant it. The studies cd to the project
# root first, so a relative OUT is taken from where they were started
# (IK_CALLER, set before that cd), not the root.
ik_here() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "${IK_CALLER:-$PWD}" "$1" ;;
	esac
}

# ik_warnings FILE.json: the environment warnings of that report, once
# each, on stderr, for scripts that run ipckern --quiet several times
# (each run would repeat them; the JSON carries them)
ik_warnings() {
	[ -s "$1" ] || return 0
	jq -r '.warnings[]? | "ipckern: warning: \(.)"' "$1" >&2
}

# ik_hold_cpu_latency: hold the CPU latency QoS at IK_CPU_LATENCY us
# (default 0) for the rest of the script, as ipckern --cpu-latency does:
# a sleeping peer's CPU then polls instead of entering an idle state, so
# a wake-up between two CPUs is not a halted (v)CPU's (on our Firecracker
# guests 40-250 us, against ~3-4 us held), for the reference and ipckern
# alike. IK_CPU_LATENCY=off, or a /dev/cpu_dma_latency we may not write
# (not root), leaves the machine as it is. Says which on stdout. The fd
# closes when the script exits, and the hold with it.
ik_hold_cpu_latency() {
	local us=${IK_CPU_LATENCY:-0}
	if [ "$us" = off ]; then
		echo "idle: as the machine has it (IK_CPU_LATENCY=off)"
		return
	fi
	# decimal (printf would read 010 as octal, and 08 not at all), and
	# no more than the kernel's "no constraint" (an s32 beyond it fails)
	case $us in '' | *[!0-9]* | ???????????*) us=x ;; *) us=$((10#$us)) ;; esac
	if [ "$us" = x ] || [ "$us" -gt 2000000000 ]; then
		echo "${0##*/}: IK_CPU_LATENCY '${IK_CPU_LATENCY:-}': expected whole microseconds (0-2000000000) or off" >&2
		exit 2
	fi
	if ! [ -w /dev/cpu_dma_latency ]; then
		echo "idle: as the machine has it (/dev/cpu_dma_latency is not writable: run as root to hold it)"
		return
	fi
	exec {ik_qos_fd}>/dev/cpu_dma_latency
	# written as text it is hex; never 4 bytes long (read as a binary s32)
	printf '%08x\n' "$us" >&"$ik_qos_fd"
	echo "idle: CPU latency QoS held at $us us for the whole script (IK_CPU_LATENCY=off: not held)"
}
