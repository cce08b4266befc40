"""Confine one item's process to a file system of its own before any student code runs.

The worker (zygote) already lives in namespaces of its own (``sandbox.launch``): its root holds the system
directories, the Python installation, a private /tmp and the whole worker directory: every item's folder, the
tripwired support package of the naive items and the full one of the others. An item's process must see less:
only what that item needs. So each forked child, as its first act, calls ``confine``, which

1. creates a user namespace of its own together with new mount, IPC, network and PID namespaces: nothing it
   mounts is seen by the zygote or by another item, no System V object or abstract socket is shared with
   another item, and the item's process (forked next, the first of the new PID namespace) can neither see nor
   signal nor trace any process but its own descendants;
2. builds a new root (an empty folder of the worker's private /tmp, bound onto itself): the system directories
   and the Python installation read-only, a few device nodes, a /tmp of its own, its own support package
   (``lib``) read-only and its own folder (``work``) writable, each at the path it has in the worker, and a
   /proc of the item's own PID namespace only (the worker's would lead, through /proc/<pid>/root, to the other
   items' roots);
3. pivots into that root and detaches the old one, so no path leads back to the rest of the worker's files
   (another item's folder, the full support package, the grader's own files);
4. drops every capability (bounding set included) and sets no-new-privileges, so the mounts can be neither
   undone nor extended.

Nothing here falls back: any failure raises ``ConfinementError`` and the zygote records the item as a grader
error (to be regraded), never as graded unconfined.

Standard library only (``ctypes`` for the system calls): this module runs inside the jail.
"""
import ctypes
import os
import stat

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
MNT_DETACH = 2
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
CAPABILITY_VERSION_3 = 0x20080522
PIVOT_ROOT_SYSCALL = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
# statvfs flags that, once locked by a more privileged namespace, a read-only remount must keep.
KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
              (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))


class ConfinementError(RuntimeError):
    """The item's process could not be confined; it must not run student code."""


_LIBC = ctypes.CDLL(None, use_errno=True)


def _call(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise ConfinementError("%s: %s" % (what, os.strerror(errno)))


def _b(text):
    return None if text is None else os.fsencode(text)


def _mount(source, target, fstype, flags, data=None):
    _call(_LIBC.mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)), "mount " + target)


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def _own_namespaces():
    """New user, mount, IPC, network and PID namespaces (the PID namespace is that of the next process this one
    forks: the item's own, see ``worker.start_child``). No identity map is written (the process is not dumpable,
    so its /proc files are not its own): its user stays what it was for every file it touches, and every file
    it creates is created on a file system of the worker's (the item's folder, its /tmp), never on one mounted
    here, so no map is needed."""
    _call(_LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here propagates back to the worker


def _target(root, path):
    return root + os.path.abspath(path)


def _made_at(root, tmp, path):
    """Where the mount point or link for ``path`` is created before the binds: below ``root``, except under
    /tmp (the worker's directory, or a course or virtual environment kept there), whose mount points belong in
    the item's own /tmp folder, ``tmp``, because that folder is bound over ``root``/tmp first."""
    path = os.path.abspath(path)
    return tmp + path[4:] if path.startswith("/tmp/") else _target(root, path)


def _mount_point(target, folder):
    """Create the (empty) folder or file ``target`` that a bind mount will cover."""
    if folder:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()


def _bind(source, target, writable=False):
    """Bind ``source`` (with everything mounted below it) at ``target``; read-only unless ``writable``."""
    _mount(source, target, None, MS_BIND | MS_REC)
    if not writable:
        _remount_readonly(target)


def _remount_readonly(target):
    flags = os.statvfs(target).f_flag
    kept = sum(ms for st, ms in KEPT_FLAGS if flags & st)  # flags a more privileged namespace locked on
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)


def _close_directories():
    """Close every inherited descriptor of a folder: none may lead back into the worker's file system."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                if stat.S_ISDIR(os.fstat(fd).st_mode):
                    os.close(fd)
            except OSError:
                pass


def _pivot_root(new_root, put_old):
    if hasattr(_LIBC, "pivot_root"):
        result = _LIBC.pivot_root(_b(new_root), _b(put_old))
    else:
        number = PIVOT_ROOT_SYSCALL.get(os.uname().machine)
        if number is None:
            raise ConfinementError("pivot_root: unknown system call number on " + os.uname().machine)
        result = _LIBC.syscall(ctypes.c_long(number), _b(new_root), _b(put_old))
    _call(result, "pivot_root")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    """No capability left, none to be had again by exec (bounding set empty, no new privileges)."""
    for cap in range(64):
        if _LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the kernel's last capability (EINVAL)
    _LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = _CapHeader(CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _call(_LIBC.capset(ctypes.byref(header), data), "capset")
    _call(_LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def confine(job, jail):
    """Give this (forked, single-threaded) item process a root holding only what ``job``'s item may see.

    Parameters
    ----------
    job : protocol.ItemJob
        ``work`` (the item's folder, kept writable) and ``lib`` (its support package, read-only).
    jail : protocol.JailSpec
        ``readonly`` (system directories and the Python installation, bound read-only where they are folders,
        re-created where they are symbolic links) and ``devices`` (names under /dev). The root and the item's
        own /tmp are folders of the worker's private /tmp (``/tmp/.item-<pid>/``, or under ``scratch``), so
        the worker's /tmp limit bounds them.

    Returns
    -------
    int
        In the calling process: the pid of the item's process, forked into a new PID namespace and confined
        (the caller is to wait for it; it is itself confined too, by the shared mount namespace). In the item's
        process: 0.

    Raises
    ------
    ConfinementError
        Any step failed; the caller must not run the item.
    """
    try:
        base = os.path.join(jail.get("scratch", "/tmp"), ".item-%d" % os.getpid())
        root, tmp = base + "/root", base + "/tmp"
        binds = []  # (source, target, writable), in mount order
        os.makedirs(root + "/.old-root", mode=0o755)
        os.makedirs(tmp, mode=0o700)
        os.makedirs(root + "/tmp")
        binds.append((root, root, True))  # a mount point of its own, as pivot_root wants
        binds.append((tmp, root + "/tmp", True))
        for path in jail["readonly"]:
            if os.path.islink(path):
                os.makedirs(os.path.dirname(_made_at(root, tmp, path)), exist_ok=True)
                os.symlink(os.readlink(path), _made_at(root, tmp, path))
            elif os.path.isdir(path):
                _mount_point(_made_at(root, tmp, path), True)
                binds.append((path, _target(root, path), False))
        for device in jail["devices"]:
            _mount_point(_target(root, "/dev/" + device), False)
            binds.append(("/dev/" + device, _target(root, "/dev/" + device), True))
        for path, writable in ((job["lib"], False), (job["work"], True)):
            _mount_point(_made_at(root, tmp, path), True)
            binds.append((path, _target(root, path), writable))
        os.makedirs(root + "/proc")
        _own_namespaces()
        for source, target, writable in binds:
            _bind(source, target, writable)
        relay, relay_item = os.pipe()
        pid = os.fork()  # the item's process: the first of the new PID namespace
    except ConfinementError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfinementError("%s: %s" % (type(error).__name__, error)) from None
    if pid:
        os.close(relay_item)
        with os.fdopen(relay, "rb") as handle:
            said = handle.read(4096)
        if said != b"ok":
            raise ConfinementError(said.decode(errors="replace") or "the item's process ended while confining")
        return pid
    os.close(relay)
    try:
        _enter(root, job["work"])
        os.write(relay_item, b"ok")
    except BaseException as error:
        os.write(relay_item, ("%s: %s" % (type(error).__name__, error)).encode()[:2000])
        os._exit(1)
    finally:
        os.close(relay_item)
    return 0


def _enter(root, work):
    """In the item's process: a /proc of its own PID namespace (mounted while the worker's /proc is still in
    view, as the kernel requires), then pivot into ``root``, detach the old root, drop every capability."""
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _close_directories()
    os.chdir(root)
    _pivot_root(".", ".old-root")
    os.chdir("/")
    _call(_LIBC.umount2(b"/.old-root", MNT_DETACH), "umount the old root")
    _remount_readonly("/")
    os.chdir(work)
    _drop_capabilities()
