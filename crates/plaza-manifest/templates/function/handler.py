"""{{name}}: a Plaza function.

The function runtime calls `handle(event)` once per invocation with a dict holding the
request (`method`, `path`, `headers`, `body`) and sends back the dict it returns.
"""


def handle(event):
    name = (event.get("query") or {}).get("name", "world")
    return {
        "status": 200,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "Hello, " + name + ", from {{name_py}}!\n",
    }


if __name__ == "__main__":
    print(handle({"method": "GET", "path": "/", "headers": {}, "body": ""}))
