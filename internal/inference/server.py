"""mlfleet's inference server: serves one scoring script over HTTP.

The contract of azureml-inference-server-http: the scoring script defines init(), called
once before the server is ready, and run(raw_data), called for every POST /score with the
request body as a str. GET / answers while the process lives, GET /ready once init() has
returned. The model directory is in the environment variable AZUREML_MODEL_DIR.

Standard library only. If importing the script or init() raises, the traceback goes to
stderr and the process exits with status 1, so that its supervisor restarts it.
"""

import argparse
import hmac
import importlib.util
import json
import os
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 100 * 1024 * 1024
# The key a request must carry (X-Mlfleet-Instance-Key), taken out of the environment
# before the scoring script is loaded.
INSTANCE_KEY = os.environ.pop("MLFLEET_INSTANCE_KEY", "")


def load_script(code_dir, script):
    path = os.path.join(code_dir, script)
    if not os.path.isfile(path):
        raise FileNotFoundError("scoring script %s not found in %s" % (script, code_dir))
    # The script may import modules next to it.
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    sys.path.insert(0, os.path.abspath(code_dir))
    spec = importlib.util.spec_from_file_location("score", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise AttributeError("scoring script %s defines no run(raw_data) function" % script)
    return module


def to_json(value):
    """Encodes what run() returned; numpy arrays and scalars through tolist()/item()."""

    def default(o):
        for attr in ("tolist", "item"):
            f = getattr(o, attr, None)
            if callable(f):
                return f()
        if isinstance(o, (set, frozenset, tuple)):
            return list(o)
        raise TypeError("run() returned a %s, which is not JSON serializable" % type(o).__name__)

    return json.dumps(value, default=default).encode("utf-8")


class State:
    ready = False
    script = None
    lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mlfleet-inference-server/1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stdout.write("%s - %s\n" % (self.address_string(), fmt % args))

    def reply(self, status, body, content_type="application/json", close=False):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:  # the request's body was not read: the connection cannot serve another
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self.reply(200, "Healthy", "text/plain; charset=utf-8")
        elif path == "/ready":
            if State.ready:
                self.reply(200, "Ready", "text/plain; charset=utf-8")
            else:
                self.reply(503, "Not ready", "text/plain; charset=utf-8")
        else:
            self.reply(404, json.dumps({"message": "no route %s" % path}))

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        if path != "/score":
            self.reply(404, json.dumps({"message": "no route %s" % path}), close=True)
            return
        # Only mlfleet's router, which knows this instance's key, may score: any local
        # process can reach 127.0.0.1 (see instancekey.go).
        if not hmac.compare_digest(self.headers.get("X-Mlfleet-Instance-Key", ""), INSTANCE_KEY):
            self.reply(401, json.dumps({"message": "call the endpoint's scoring URI; instances answer only mlfleet's router"}), close=True)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.reply(413, json.dumps({"message": "request body over %d bytes" % MAX_BODY}), close=True)
            return
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        if not State.ready:
            self.reply(503, json.dumps({"message": "the scoring script is not initialized"}))
            return
        try:
            result = State.script.run(raw)
        except Exception as e:  # the script's failure is the caller's 500, and logged
            traceback.print_exc(file=sys.stderr)
            self.reply(500, json.dumps({"message": "run() raised %s: %s" % (type(e).__name__, e)}))
            return
        try:
            if isinstance(result, bytes):
                body = result
            elif isinstance(result, str):
                body = result.encode("utf-8")
            else:
                body = to_json(result)
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            self.reply(500, json.dumps({"message": str(e)}))
            return
        self.reply(200, body)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--code-dir", required=True)
    p.add_argument("--scoring-script", default="score.py")
    args = p.parse_args()

    # Listen first, so that liveness answers while init() runs.
    httpd = ThreadingHTTPServer((args.host, args.port), Handler)
    httpd.daemon_threads = True
    serving = threading.Thread(target=httpd.serve_forever, daemon=True)
    serving.start()
    print("mlfleet inference server listening on %s:%d" % (args.host, args.port), flush=True)
    try:
        State.script = load_script(args.code_dir, args.scoring_script)
        init = getattr(State.script, "init", None)
        if callable(init):
            init()
    except BaseException:
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    State.ready = True
    print("init() done, ready", flush=True)
    try:
        serving.join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
