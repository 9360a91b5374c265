"""Lists what a screen reader sees of the running kiosk window, through AT-SPI (Debian's
python3-pyatspi), and optionally presses a button by its name, the way a screen reader's
user would. Run by tests/atspi/check (which starts the buses, Xvfb and the kiosk).

    tree.py list                 print the kiosk's accessible tree (role, name, bounds)
    tree.py press NAME           press the first button named NAME; exit 1 if none
    tree.py find NAME            exit 0 if something named NAME shows, 1 if not

(pyatspi keeps what it saw of the bus for the life of the process: to wait for a screen,
call `find` again from a new process, as tests/atspi/check does.)
"""

import sys
import pyatspi

APP = "ekyc-kiosk"


def kiosk():
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        if app is not None and APP in (app.name or ""):
            return app
    return None


def walk(node, depth=0):
    yield node, depth
    for child in node:
        if child is not None:
            yield from walk(child, depth + 1)


def bounds(node):
    try:
        extents = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        return f"{extents.width}x{extents.height}+{extents.x}+{extents.y}"
    except NotImplementedError:
        return ""


def find(name):
    app = kiosk()
    if app is None:
        return None
    for node, _ in walk(app):
        if node.name == name and node.getRoleName() in ("push button", "toggle button", "button"):
            return node
    for node, _ in walk(app):
        if node.name == name:
            return node
    return None


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else "list"
    if command == "list":
        app = kiosk()
        if app is None:
            print("no application named ekyc-kiosk on the accessibility bus", file=sys.stderr)
            return 1
        for node, depth in walk(app):
            name = (node.name or "").replace("\n", " ")
            print(f"{'  ' * depth}{node.getRoleName()}: {name!r} {bounds(node)}")
        return 0
    if command == "press":
        node = find(sys.argv[2])
        if node is None:
            print(f"nothing named {sys.argv[2]!r}", file=sys.stderr)
            return 1
        try:
            node.queryAction().doAction(0)
        except Exception as error:  # the tree changed under us: the caller tries again
            print(f"{sys.argv[2]!r} could not be pressed: {error}", file=sys.stderr)
            return 1
        return 0
    if command == "find":
        return 0 if find(sys.argv[2]) is not None else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
