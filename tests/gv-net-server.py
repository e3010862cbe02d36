#!/usr/bin/python3
"""Loopback HTTP server for tests/test-net.c: serves a video with Range support and injects the
faults a download meets (404, 500 then 200, redirect loop, endless chunked body, truncated body,
slow drip, a stall, a web page instead of the video); implements the Supabase Storage upload and
PostgREST PATCH endpoints the worker uses, checking headers and bodies, with faults chosen by the
object path (fail500once, deny: 400 carrying 403, dup: 400 carrying 409, huge: 413, slow: answers
after 3 s) and a 401 for any other key than argv[2]; records every request for GET /log. Binds
127.0.0.1 only; prints its port on stdout."""
import http.server
import json
import os
import re
import sys
import threading
import time

VIDEO = open(sys.argv[1], 'rb').read()
KEY = sys.argv[2] if len(sys.argv) > 2 else 'test-key'
ISO = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')
PROGRESS_FIELDS = {'progress_percentage', 'progress_message', 'progress_step',
                   'progress_updated_at', 'updated_at'}
log = []
counts = {}
lock = threading.Lock()


def hit(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def plain(self, code, body, ctype='text/plain'):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def video(self, data=VIDEO, truncate=None, ranges=True):
        start = 0
        rng = self.headers.get('Range')
        if ranges and rng and rng.startswith('bytes=') and rng.endswith('-'):
            start = int(rng[6:-1])
            self.send_response(206)
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header('Content-Type', 'video/mp4')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if truncate is not None:
            self.wfile.write(body[:truncate])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def record(self, status, body, note=''):
        entry = {'method': self.command, 'path': self.path, 'status': status,
                 'content_type': self.headers.get('Content-Type'),
                 'upsert': self.headers.get('x-upsert'), 'prefer': self.headers.get('Prefer'),
                 'body_len': len(body), 'png': body[:8] == b'\x89PNG\r\n\x1a\n', 'note': note}
        try:
            entry['json'] = json.loads(body)
        except ValueError:
            pass
        with lock:
            log.append(entry)

    def authorised(self):
        return (self.headers.get('apikey') == KEY
                and self.headers.get('Authorization') == 'Bearer ' + KEY)

    def reply_json(self, status, obj, body=b''):
        self.record(status, body)
        data = json.dumps(obj).encode() if obj is not None else b''
        self.send_response(status)
        if data:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get('Content-Length', '0'))
        return self.rfile.read(n) if n else b''

    def do_POST(self):
        body = self.read_body()
        path = self.path.partition('?')[0]
        if path == '/webhook':
            return self.reply_json(200, {'ok': True}, body)
        if not path.startswith('/storage/v1/object/'):
            return self.reply_json(404, {'error': 'not found'}, body)
        obj = path[len('/storage/v1/object/'):]
        if not self.authorised():
            return self.reply_json(401, {'message': 'Invalid JWT'}, body)
        if not obj.startswith('analysis-images/'):
            return self.reply_json(400, {'statusCode': '404', 'error': 'Bucket not found',
                                         'message': 'Bucket not found'}, body)
        if self.headers.get('x-upsert') != 'true':
            return self.reply_json(400, {'statusCode': '409', 'error': 'Duplicate',
                                         'message': 'The resource already exists'}, body)
        ctype = self.headers.get('Content-Type')
        if obj.endswith('.png') and (ctype != 'image/png' or body[:8] != b'\x89PNG\r\n\x1a\n'):
            return self.reply_json(422, {'message': 'not a PNG'}, body)
        if obj.endswith('.json'):
            try:
                json.loads(body)
            except ValueError:
                return self.reply_json(422, {'message': 'not JSON'}, body)
        if 'slow' in obj:
            # Longer than the client's timeout in tests/test-net.c; it has gone by then, so the
            # request is not logged (it would land in a later test's log).
            time.sleep(3)
            self.close_connection = True
            return
        if 'fail500once' in obj and hit('POST ' + obj) == 1:
            return self.reply_json(500, {'message': 'internal'}, body)
        if 'deny' in obj:
            return self.reply_json(400, {'statusCode': '403', 'error': 'Unauthorized',
                                         'message': 'new row violates row-level security policy'},
                                   body)
        if 'dup' in obj:
            return self.reply_json(400, {'statusCode': '409', 'error': 'Duplicate',
                                         'message': 'The resource already exists'}, body)
        if 'huge' in obj:
            return self.reply_json(413, {'statusCode': '413', 'error': 'Payload too large',
                                         'message': 'The object exceeded the maximum allowed size'},
                                   body)
        return self.reply_json(200, {'Key': obj}, body)

    def do_PATCH(self):
        body = self.read_body()
        path, _, query = self.path.partition('?')
        if path != '/rest/v1/analysis_jobs' or not query.startswith('id=eq.'):
            return self.reply_json(404, {'message': 'not found'}, body)
        if not self.authorised():
            return self.reply_json(401, {'message': 'Invalid JWT'}, body)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if (self.headers.get('Content-Type') != 'application/json'
                or self.headers.get('Prefer') != 'return=minimal' or not isinstance(doc, dict)
                or set(doc) != PROGRESS_FIELDS or not ISO.match(doc['updated_at'])
                or not ISO.match(doc['progress_updated_at'])
                or not isinstance(doc['progress_percentage'], int)):
            return self.reply_json(400, {'message': 'bad progress body'}, body)
        if 'failjob' in query:
            return self.reply_json(500, {'message': 'internal'}, body)
        return self.reply_json(204, None, body)

    def do_GET(self):
        path, _, query = self.path.partition('?')
        key = path + '?' + query
        n = hit(key)
        if path == '/video.mp4':
            self.video()
        elif path == '/norange.mp4':
            # Truncated once, then full bodies only (Range ignored).
            self.video(truncate=len(VIDEO) // 3 if n == 1 else None, ranges=False)
        elif path == '/truncate-once.mp4':
            self.video(truncate=len(VIDEO) // 2 if n == 1 else None)
        elif path == '/truncate-always.mp4':
            self.video(truncate=100)
        elif path == '/flaky.mp4':
            if n <= 2:
                self.plain(500, b'{"error":"busy"}', 'application/json')
            else:
                self.video()
        elif path == '/always500':
            self.plain(500, b'internal error')
        elif path == '/redirect':
            self.send_response(302)
            self.send_header('Location', '/video.mp4')
            self.send_header('Content-Length', '0')
            self.end_headers()
        elif path == '/loop':
            self.send_response(302)
            self.send_header('Location', '/loop?' + str(n))
            self.send_header('Content-Length', '0')
            self.end_headers()
        elif path == '/endless':
            self.send_response(200)
            self.send_header('Content-Type', 'video/mp4')
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            chunk = b'x' * 65536
            try:
                while True:
                    self.wfile.write(b'%x\r\n' % len(chunk) + chunk + b'\r\n')
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        elif path == '/drip':
            self.send_response(200)
            self.send_header('Content-Type', 'video/mp4')
            self.send_header('Content-Length', '1000')
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b'x')
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        elif path == '/stall':
            # One byte, then silence with the connection open: a stall, not a slow drip.
            self.send_response(200)
            self.send_header('Content-Type', 'video/mp4')
            self.send_header('Content-Length', '1000')
            self.end_headers()
            try:
                self.wfile.write(b'x')
                self.wfile.flush()
                time.sleep(20)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif path == '/page':
            self.plain(200, b'<html><body>Please sign in</body></html>', 'text/html; charset=utf-8')
        elif path == '/log':
            with lock:
                data = json.dumps(log).encode()
                if query == 'clear':
                    log.clear()
            self.plain(200, data, 'application/octet-stream')
        elif path == '/count':
            self.plain(200, str(counts.get(query, 0)).encode())
        else:
            self.plain(404, b'{"error":"not found"}', 'application/json')


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that stop reading (size limits, timeouts) are what the tests do


server = Server(('127.0.0.1', 0), Handler)


def watch_parent():
    sys.stdin.read()  # EOF: the test process is gone
    os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()
print(server.server_address[1], flush=True)
server.serve_forever()
