# SPDX-License-Identifier: GPL-2.0-or-later
# A long-lived TCP flow for the conntrack tests: connects to ADDR PORT (an
# echo server), sends a byte every 50 ms and appends a line to OUT for each
# echo that comes back, until the file STOP exists. A flow that is cut
# stops adding lines; one that keeps working goes on.
import os
import socket
import sys
import time

addr, port, out, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sock = socket.create_connection((addr, port), timeout=2)
sock.settimeout(0.05)
with open(out, "a", buffering=1) as f:
    while not os.path.exists(stop):
        try:
            sock.sendall(b"x")
            if sock.recv(256):
                f.write("echo\n")
        except socket.timeout:
            pass
        except OSError:
            break
        time.sleep(0.05)
