#!/usr/bin/python3
"""Drags files onto an X11 window the way a file manager does (XDND v5), for
the desktop smoke test: xdotool cannot do a real drag-and-drop.

    xdnd_drop.py WINDOW_ID X Y FILE... [--hover-only SECONDS]

Enter and Position make the target show its drop zone; with --hover-only the
drag is held that long and then abandoned (Leave), otherwise it is dropped and
the target reads the files as text/uri-list. Needs python3-xlib.
"""
import sys
import time
import urllib.parse

from Xlib import X, Xatom, display, protocol


def main():
    args = sys.argv[1:]
    hover_only = None
    if "--hover-only" in args:
        i = args.index("--hover-only")
        hover_only = float(args[i + 1])
        del args[i : i + 2]
    target_id, x, y, files = int(args[0], 0), int(args[1]), int(args[2]), args[3:]
    d = display.Display()
    atom = lambda name: d.intern_atom(name)
    screen = d.screen()
    source = screen.root.create_window(0, 0, 1, 1, 0, screen.root_depth)
    target = d.create_resource_object("window", target_id)
    uri_list = atom("text/uri-list")
    uris = "".join("file://" + urllib.parse.quote(f) + "\r\n" for f in files).encode()
    source.set_selection_owner(atom("XdndSelection"), X.CurrentTime)

    def send(name, data):
        event = protocol.event.ClientMessage(
            window=target, client_type=atom(name), data=(32, data + [0] * (5 - len(data)))
        )
        target.send_event(event, event_mask=0)
        d.flush()

    def wait_for(name, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            while d.pending_events():
                event = d.next_event()
                if event.type == X.SelectionRequest:
                    answer_selection(event)
                elif event.type == X.ClientMessage and event.client_type == atom(name):
                    return event
            time.sleep(0.01)
        sys.exit(f"xdnd_drop: no {name} from the target")

    def answer_selection(request):
        request.requestor.change_property(request.property, uri_list, 8, uris)
        notify = protocol.event.SelectionNotify(
            time=request.time,
            requestor=request.requestor,
            selection=request.selection,
            target=request.target,
            property=request.property,
        )
        request.requestor.send_event(notify)
        d.flush()

    send("XdndEnter", [source.id, 5 << 24, uri_list])
    send("XdndPosition", [source.id, 0, (x << 16) | y, X.CurrentTime, atom("XdndActionCopy")])
    status = wait_for("XdndStatus")
    if not status.data[1][1] & 1:
        sys.exit("xdnd_drop: the target refused the drop")
    print("hovering", flush=True)
    if hover_only is not None:
        time.sleep(hover_only)
        send("XdndLeave", [source.id])
        return
    send("XdndDrop", [source.id, 0, X.CurrentTime])
    wait_for("XdndFinished")


if __name__ == "__main__":
    main()
