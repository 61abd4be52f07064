#!/usr/bin/env python3
"""Writes the reference smart factory as an ADT import file (NDJSON: Header, Models, Twins,
Relationships) for `castor import` or PUT /jobs/imports.

The plant: 1 factory, LINES lines (default 10), each with one conveyor, ROBOTS_PER_LINE robots
(default 10) that feed it, a line controller, and five sensors (three photo-eyes, a temperature
and a vibration sensor). Twin ids are stable (robot-03-07 is robot 7 of line 3), so simulator
topics, dashboards and queries can name them.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
P = "dtmi:castor:factory:"


def twin(dt_id, model, **props):
    return {"$dtId": dt_id, "$metadata": {"$model": P + model + ";1"}, **props}


def plant(lines, robots_per_line):
    twins, rels = [], []

    def relate(src, name, dst):
        rels.append({"$dtId": src, "$relationshipId": f"{name}-{dst}", "$targetId": dst,
                     "$relationshipName": name})

    twins.append(twin("factory", "Factory", name="Reference plant", location="Hall 1"))
    for li in range(1, lines + 1):
        line = f"line-{li:02d}"
        twins.append(twin(line, "Line", name=f"Line {li}", index=li, targetRate=60.0))
        relate("factory", "contains", line)
        ctl = f"controller-{li:02d}"
        twins.append(twin(ctl, "LineController", mode="auto", status="running", producedCount=0))
        relate(line, "hasController", ctl)
        conv = f"conveyor-{li:02d}"
        twins.append(twin(conv, "Conveyor", speedSetpoint=0.5, status="running", lengthM=24.0))
        relate(line, "hasConveyor", conv)
        for ri in range(1, robots_per_line + 1):
            robot = f"robot-{li:02d}-{ri:02d}"
            joints = {f"joint{j}": {"$metadata": {}, "maxTemperature": 90.0} for j in range(1, 7)}
            twins.append(twin(robot, "Robot", serial=f"R{li:02d}{ri:02d}", status="running",
                              program="pick-place", mode="auto", cycleCount=0, **joints))
            relate(line, "hasRobot", robot)
            relate(robot, "feeds", conv)
        for si, kind in enumerate(["PhotoEye", "PhotoEye", "PhotoEye", "TemperatureSensor",
                                   "VibrationSensor"], start=1):
            sensor = f"sensor-{li:02d}-{si}"
            props = {"serial": f"S{li:02d}{si}", "status": "ok", "position": 4.0 * si}
            if kind == "PhotoEye":
                props["count"] = 0
            twins.append(twin(sensor, kind, **props))
            relate(line, "hasSensor", sensor)
    return twins, rels


def models():
    folder = os.path.join(HERE, "models")
    return [json.load(open(os.path.join(folder, f))) for f in sorted(os.listdir(folder))
            if f.endswith(".json")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the NDJSON file to write ('-' for standard output)")
    ap.add_argument("--lines", type=int, default=10, help="production lines (default 10)")
    ap.add_argument("--robots-per-line", type=int, default=10, help="robots per line (default 10)")
    args = ap.parse_args()
    if args.lines < 1 or args.lines > 99 or args.robots_per_line < 1 or args.robots_per_line > 99:
        ap.error("--lines and --robots-per-line must be between 1 and 99")
    twins, rels = plant(args.lines, args.robots_per_line)
    out = sys.stdout if args.out == "-" else open(args.out, "w")
    w = lambda obj: out.write(json.dumps(obj, separators=(",", ":")) + "\n")
    w({"Section": "Header"})
    w({"fileVersion": "1.0.0", "author": "castor", "organization": "castor examples"})
    w({"Section": "Models"})
    for m in models():
        w(m)
    w({"Section": "Twins"})
    for t in twins:
        w(t)
    w({"Section": "Relationships"})
    for r in rels:
        w(r)
    if out is not sys.stdout:
        out.close()
        print(f"wrote {len(twins)} twins and {len(rels)} relationships to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
