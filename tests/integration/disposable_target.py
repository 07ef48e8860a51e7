# -*- coding: utf-8 -*-

# Copyright: Contributors to the backupops.azure project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A disposable Linux target for the role tests: a Debian root in its own namespaces.

It stands in for a VM migrated to Azure, so that the roles run for real (packages, services,
files) without ever touching the test machine's own system:

* ``build`` makes the image once, with debootstrap (minbase, the host's Debian release, from
  the host's mirror), plus python3 / python3-apt for Ansible, and the agent package and its
  dependencies DOWNLOADED (not installed) into apt's cache, so that installing them later
  needs no network.  The image is cached under build/; a rerun does nothing.
* ``boot`` starts a "VM": an overlay on the image (the image itself never changes) seen only
  in a new mount namespace, new PID, network, UTS and IPC namespaces, /proc of its own,
  /proc/sys read-only, and /sbin/init as PID 1.  Its network namespace holds only a loopback
  interface, left down: nothing in it can send a packet anywhere, which is how the agent
  daemon (it talks to Azure's wire server) runs during the tests.  ``halt`` kills PID 1, which
  ends every process of the VM, and removes the overlay.

The test connection plugin connection_plugins/disposable.py runs Ansible's commands inside a
booted target with nsenter.  Needs root, debootstrap and util-linux (unshare, nsenter).

Usage: disposable_target.py build [IMAGE_DIR]      (default: build/disposable-target)
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_IMAGE_DIR = os.path.join(REPO, "build", "disposable-target")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
INCLUDE = ("python3", "python3-apt", "sysvinit-utils", "procps")
CACHED_PACKAGES = ("waagent",)
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# PID 1 of a target: reaps orphans (dash's wait reaps any child) until it is killed.
INIT = """#!/bin/sh
# PID 1 of a disposable test target (backupops.azure tests).
trap 'exit 0' TERM INT
while :; do sleep 1 & wait; done
"""
# Maintainer scripts must not start daemons while packages are installed (Debian policy-rc.d):
# the role starts the agent's service itself.
POLICY_RC_D = "#!/bin/sh\n# No daemon starts from a package's maintainer scripts in this test target.\nexit 101\n"
# Run by unshare inside the new namespaces, before chroot: $1 root, $2 hostname, $3 image, $4 upper, $5 work.
BOOT = """set -e
mount -t overlay overlay -o "lowerdir=$3,upperdir=$4,workdir=$5" "$1"
mount -t proc -o nosuid,nodev,noexec proc "$1/proc"
mount --bind "$1/proc/sys" "$1/proc/sys" && mount -o remount,bind,ro "$1/proc/sys"
mount --bind "$1/proc/sysrq-trigger" "$1/proc/sysrq-trigger" && mount -o remount,bind,ro "$1/proc/sysrq-trigger"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$1/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$1/tmp"
hostname "$2"
exec chroot "$1" /sbin/init
"""


def host_release():
    """The host's Debian codename (the image follows the host: Debian 12 or 13 alike), or the one
    named by BACKUPOPS_TARGET_RELEASE (to try the roles on another release)."""
    if os.environ.get("BACKUPOPS_TARGET_RELEASE"):
        return os.environ["BACKUPOPS_TARGET_RELEASE"]
    with open("/etc/os-release", encoding="utf-8") as handle:
        fields = dict(line.rstrip("\n").split("=", 1) for line in handle if "=" in line)
    codename = fields.get("VERSION_CODENAME", "").strip('"')
    if not codename:
        raise RuntimeError("cannot tell the Debian release from /etc/os-release")
    return codename


def host_mirror(codename):
    """The host's Debian mirror for its release (apt's sources), else deb.debian.org."""
    candidates = []
    sources = "/etc/apt/sources.list.d/debian.sources"
    if os.path.exists(sources):
        with open(sources, encoding="utf-8") as handle:
            for stanza in handle.read().split("\n\n"):
                uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
                suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
                if uris and suites and codename in suites.group(1).split():
                    candidates.append(uris.group(1))
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list", encoding="utf-8") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == codename:
                    candidates.append(parts[1])
    return next((uri for uri in candidates if uri.startswith("http")), DEFAULT_MIRROR)


def recipe(codename, mirror):
    return {"codename": codename, "mirror": mirror, "include": list(INCLUDE), "cached": list(CACHED_PACKAGES),
            "init": INIT, "policy": POLICY_RC_D, "version": 1}


def _run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def build(image_dir=DEFAULT_IMAGE_DIR, log=sys.stdout):
    """Build the image under image_dir/rootfs unless the cached one matches the recipe.
    Returns (rootfs, seconds spent, built?)."""
    started = time.monotonic()
    codename = host_release()
    want = recipe(codename, host_mirror(codename))
    digest = hashlib.sha256(json.dumps(want, sort_keys=True).encode()).hexdigest()
    rootfs = os.path.join(image_dir, "rootfs")
    stamp = os.path.join(image_dir, "image.json")
    if os.path.isdir(rootfs) and os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as handle:
            if json.load(handle).get("digest") == digest:
                return rootfs, time.monotonic() - started, False
    if os.geteuid() != 0:
        raise RuntimeError("building the disposable target needs root (debootstrap, chroot)")
    if not shutil.which("debootstrap"):
        _run(["apt-get", "update", "-qq"])
        _run(["apt-get", "install", "-y", "-qq", "debootstrap"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    os.makedirs(image_dir, exist_ok=True)
    work = rootfs + ".new"
    shutil.rmtree(work, ignore_errors=True)
    log.write("disposable target: debootstrap %s from %s into %s\n" % (codename, want["mirror"], work))
    log.flush()
    with open(os.path.join(image_dir, "debootstrap.log"), "wb") as out:
        _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(INCLUDE), codename, work, want["mirror"]],
             stdout=out, stderr=subprocess.STDOUT)
        env = {"PATH": PATH, "DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8", "HOME": "/root"}
        # Keep only what the roles will install: the agent and its dependencies, downloaded.
        _run(["chroot", work, "apt-get", "clean"], env=env, stdout=out, stderr=subprocess.STDOUT)
        _run(["chroot", work, "apt-get", "install", "-y", "-q", "--download-only"] + list(CACHED_PACKAGES),
             env=env, stdout=out, stderr=subprocess.STDOUT)
    _write(work, "sbin/init", INIT, 0o755)
    _write(work, "usr/sbin/policy-rc.d", POLICY_RC_D, 0o755)
    shutil.rmtree(rootfs, ignore_errors=True)
    os.rename(work, rootfs)
    seconds = time.monotonic() - started
    with open(stamp, "w", encoding="utf-8") as handle:
        json.dump({"digest": digest, "recipe": want, "build_seconds": round(seconds, 1)}, handle, indent=1)
    log.write("disposable target: image built in %.1f s\n" % seconds)
    return rootfs, seconds, True


def _write(root, path, text, mode):
    target = os.path.join(root, path)
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(target, mode)


class Target:
    """A booted target: ``pid`` is its PID 1 as the host sees it, ``directory`` the host directory
    named by the inventory (ansible_host) for the connection plugin."""

    def __init__(self, image, directory, hostname):
        self.image = image
        self.directory = directory
        self.hostname = hostname
        self.root = os.path.join(directory, "root")
        for sub in ("root", "upper", "work"):
            os.makedirs(os.path.join(directory, sub), exist_ok=True)
        # If the test process dies, setpriv's death signal kills unshare, and --kill-child then kills PID 1
        # (and with it every process of the target): nothing outlives a killed test run.
        self.proc = subprocess.Popen(
            ["setpriv", "--pdeathsig", "KILL", "--", "unshare", "--fork", "--kill-child=KILL", "--pid", "--mount",
             "--net", "--uts", "--ipc", "--propagation", "private", "--",
             "/bin/sh", "-c", BOOT, "boot", self.root, hostname, image, os.path.join(directory, "upper"),
             os.path.join(directory, "work")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            env={"PATH": PATH})
        self.pid = self._wait_for_init()
        with open(os.path.join(directory, "init.pid"), "w", encoding="utf-8") as handle:
            handle.write("%d\n" % self.pid)

    def _wait_for_init(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the target did not boot: %s" % self.proc.stderr.read().decode(errors="replace"))
            for child in _children(self.proc.pid):
                try:
                    if _comm(child) == "init" and os.readlink("/proc/%d/root" % child) != "/":
                        return child
                except OSError:
                    continue
            time.sleep(0.05)
        raise RuntimeError("the target did not start /sbin/init within 20 s")

    # -- looking inside, from the host ----------------------------------------------------
    def namespace(self, kind):
        return os.readlink("/proc/%d/ns/%s" % (self.pid, kind))

    def path(self, inside):
        """A file of the target as the host sees it (through PID 1's root)."""
        return "/proc/%d/root/%s" % (self.pid, inside.lstrip("/"))

    def run(self, command, check=True):
        done = subprocess.run(nsenter(self.pid) + ["/bin/sh", "-c", command], capture_output=True, text=True,
                              env={"PATH": PATH}, check=False)
        if check and done.returncode:
            raise RuntimeError("%r failed in the target (rc %d): %s" % (command, done.returncode, done.stderr))
        return done

    def processes(self):
        """{pid: command line} of every process in the target's PID namespace."""
        mine = self.namespace("pid")
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/ns/pid" % entry) != mine:
                    continue
                with open("/proc/%s/cmdline" % entry, "rb") as handle:
                    found[int(entry)] = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
        return found

    def interfaces(self):
        """Network interfaces and IPv4 routes of the target's network namespace."""
        with open("/proc/%d/net/dev" % self.pid, encoding="utf-8") as handle:
            names = [line.split(":", 1)[0].strip() for line in handle.readlines()[2:]]
        with open("/proc/%d/net/route" % self.pid, encoding="utf-8") as handle:
            routes = [line.split() for line in handle.readlines()[1:] if line.strip()]
        with open("/proc/%d/net/ipv6_route" % self.pid, encoding="utf-8") as handle:
            routes6 = [line.split() for line in handle if line.strip()]
        return names, routes, routes6

    def halt(self):
        """Kill PID 1 (the kernel then ends every process of the target) and remove the overlay."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=20)
        self.proc.stderr.close()
        with open("/proc/self/mounts", encoding="utf-8") as handle:
            leaked = [line for line in handle if " %s" % self.directory in line]
        if leaked:
            raise RuntimeError("mounts of the target leaked into the host: %s" % leaked)
        shutil.rmtree(self.directory)


def nsenter(pid):
    """The command prefix that runs a program inside the target, with a clean environment."""
    return ["nsenter", "--target", str(pid), "--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd",
            "--", "/usr/bin/env", "-i", "PATH=" + PATH, "HOME=/root", "LANG=C.UTF-8", "TERM=dumb"]


def _children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid), encoding="utf-8") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _comm(pid):
    with open("/proc/%d/comm" % pid, encoding="utf-8") as handle:
        return handle.read().strip()


def main(argv):
    if len(argv) < 2 or argv[1] != "build" or len(argv) > 3:
        sys.stderr.write(__doc__.rsplit("Usage:", 1)[1].strip() + "\n")
        return 2
    rootfs, seconds, built = build(argv[2] if len(argv) == 3 else DEFAULT_IMAGE_DIR)
    sys.stdout.write("disposable target: %s %s (%.1f s)\n" % (rootfs, "built" if built else "up to date", seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
