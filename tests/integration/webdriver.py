# SPDX-License-Identifier: GPL-2.0-or-later
# A minimal W3C WebDriver client (HTTP + JSON, standard library only) for
# tests/integration/cockpit.sh: drives headless Chromium through Debian's
# chromedriver. One command per run:
#
#   webdriver.py DRIVER_URL start USER_DATA_DIR     prints the session id
#   webdriver.py DRIVER_URL SESSION open URL
#   webdriver.py DRIVER_URL SESSION js EXPR          prints EXPR's value (JSON)
#   webdriver.py DRIVER_URL SESSION wait EXPR SECONDS
#         polls EXPR every 10 ms until it is truthy; prints its value and
#         the milliseconds waited; exit 1 (and the last value) on timeout
#   webdriver.py DRIVER_URL SESSION click CSS_SELECTOR
#   webdriver.py DRIVER_URL SESSION screenshot FILE.png
#         the whole page: the window is made as tall as the page first
#   webdriver.py DRIVER_URL SESSION errors
#         prints the browser console's errors since the last call (chromedriver's log)
#   webdriver.py DRIVER_URL SESSION quit
import base64
import json
import sys
import time
import urllib.error
import urllib.request


def request(method, url, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                        return json.load(resp)["value"]
        except urllib.error.HTTPError as e:
                value = json.load(e).get("value", {})
                sys.exit("webdriver: %s %s: %s: %s" % (method, url, value.get("error"), value.get("message")))


def js(base, expr):
        return request("POST", base + "/execute/sync", {"script": "return (" + expr + ");", "args": []})


def main(argv):
        driver, cmd = argv[1], argv[2]
        if cmd == "start":
                caps = {"capabilities": {"alwaysMatch": {
                        "browserName": "chrome",
                        "goog:loggingPrefs": {"browser": "ALL"},
                        "goog:chromeOptions": {
                                "binary": "/usr/bin/chromium",
                                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                                         "--no-first-run", "--no-default-browser-check",
                                         "--disable-background-networking", "--disable-component-update",
                                         "--disable-sync", "--user-data-dir=" + argv[3]],
                        }}}}
                print(request("POST", driver + "/session", caps)["sessionId"])
                return 0
        base = driver + "/session/" + cmd
        cmd, args = argv[3], argv[4:]
        if cmd == "open":
                request("POST", base + "/url", {"url": args[0]})
        elif cmd == "js":
                print(json.dumps(js(base, args[0])))
        elif cmd == "wait":
                start = time.monotonic()
                deadline = start + float(args[1])
                while True:
                        value = js(base, args[0])
                        if value:
                                print(json.dumps(value), int((time.monotonic() - start) * 1000))
                                return 0
                        if time.monotonic() >= deadline:
                                print(json.dumps(value))
                                return 1
                        time.sleep(0.01)
        elif cmd == "click":
                found = request("POST", base + "/element", {"using": "css selector", "value": args[0]})
                element = next(iter(found.values()))
                request("POST", base + "/element/" + element + "/click", {})
        elif cmd == "screenshot":
                height = js(base, "document.documentElement.scrollHeight + window.outerHeight - window.innerHeight")
                request("POST", base + "/window/rect", {"width": 1280, "height": max(800, int(height))})
                with open(args[0], "wb") as f:
                        f.write(base64.b64decode(request("GET", base + "/screenshot")))
        elif cmd == "errors":
                for entry in request("POST", base + "/se/log", {"type": "browser"}):
                        if entry.get("level") == "SEVERE":
                                print(entry.get("message"))
        elif cmd == "quit":
                request("DELETE", base)
        else:
                sys.exit("webdriver: unknown command " + cmd)
        return 0


if __name__ == "__main__":
        sys.exit(main(sys.argv))
