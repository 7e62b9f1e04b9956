#!/usr/bin/env python3
"""Give every operation in internal/api/openapi/*.json an operationId that has
none, derived from its method and path (GET /api/v1/items/{id} -> getItem,
GET /api/v1/items -> listItems). Run it after adding endpoints; the API
tests fail on an operation without one. Existing ids are kept."""
import collections, glob, json, re, sys

VERBS = {"post": "create", "put": "replace", "patch": "update", "delete": "delete"}

def singular(word):
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ses") or word.endswith("xes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word

def camel(words):
    out = []
    for w in words:
        for part in re.split(r"[-_.]", w):
            if part:
                out.append(part[0].upper() + part[1:])
    return "".join(out)

# Last path segments that name one thing to read (GET answers it, not a list).
SINGLE = {"me", "workspace", "checkpoint", "public-key", "proof", "consistency", "bundle", "progress", "report",
          "stream", "stock", "diff", "summary", "openapi.json"}
# Last path segments that name an action on what precedes them.
ACTIONS = {"start", "finish", "cancel", "include", "exclude", "acknowledge", "stage", "import", "export", "redeliver",
           "rotate-secret", "test"}

def derive(method, path):
    segs = [s for s in path.split("/") if s][2:]  # drop api, v1
    static = [s for s in segs if not s.startswith("{")]
    last = segs[-1]
    ends_with_param = last.startswith("{")
    words = []
    for i, s in enumerate(segs):
        if s.startswith("{"):
            continue
        nxt = segs[i + 1] if i + 1 < len(segs) else ""
        words.append(singular(s) if nxt.startswith("{") else s)
    if not ends_with_param and last in ACTIONS:
        verb, words = last, words[:-1]
        if method == "post" and last not in ("export", "import"):
            words = [singular(w) for w in words]
    elif method == "get":
        verb = "get" if ends_with_param or last in SINGLE or "." in last else "list"
    elif method == "post" and not ends_with_param:
        verb, words = "create", words[:-1] + [singular(words[-1])]
    else:
        verb = VERBS[method]
    return verb.split("-")[0] + camel(verb.split("-")[1:] + words)

def main():
    seen = {}
    for name in sorted(glob.glob("internal/api/openapi/*.json")):
        doc = json.load(open(name), object_pairs_hook=collections.OrderedDict)
        changed = False
        for path, item in doc.get("paths", {}).items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                op_id = op.get("operationId") or derive(method, path)
                if op_id in seen and seen[op_id] != (method, path):
                    op_id = op_id + camel([method])
                seen[op_id] = (method, path)
                if op.get("operationId") != op_id:
                    new = collections.OrderedDict([("operationId", op_id)])
                    new.update(op)
                    item[method] = new
                    changed = True
        if changed:
            with open(name, "w") as f:
                json.dump(doc, f, indent=1, ensure_ascii=False)
                f.write("\n")
            print("ids added in", name)

if __name__ == "__main__":
    sys.exit(main())
