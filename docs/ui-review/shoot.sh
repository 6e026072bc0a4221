#!/usr/bin/env bash
# Takes the screenshots of docs/ui-review.md in the real app, on a virtual screen (Xvfb), clicking as a person would
# (xdotool): for each numbered problem of the review, the same steps in a build from before the review ("before")
# and in this one ("after"), then a pass over every panel at 1280x800 and 1920x1080 in the light and dark themes.
#
#   cargo build && [ONLY=pass] bash docs/ui-review/shoot.sh BEFORE_BINARY [AFTER_BINARY]
#
# BEFORE_BINARY is a build of 1f39334 (the commit before the review's first fix), e.g.
#   git worktree add /tmp/before 1f39334 && (cd /tmp/before && cargo build) && cp /tmp/before/target/debug/syncopate /tmp/syncopate-before
# Needs Xvfb, xdotool, ImageMagick. Screenshots are cut to the part that matters and reduced to 64 colours.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
before=${1:?usage: shoot.sh BEFORE_BINARY [AFTER_BINARY]}
after=${2:-$root/target/debug/syncopate}
work=$(mktemp -d)
trap 'kill ${pid:-} ${xvfb:-} 2>/dev/null || true; rm -rf "$work"' EXIT

# A design without flows, and one with a 200-character name, made from the samples (the samples are not touched).
python3 - "$root" "$work" <<'EOF'
import json, sys
root, work = sys.argv[1], sys.argv[2]
design = json.load(open(f"{root}/samples/ecommerce.syncopate"))
idle = dict(design, flows=[], faults=[])
json.dump(idle, open(f"{work}/no-flows.syncopate", "w"), indent=2)
for s in design["services"]:
    if s["id"] == "edge":
        s["name"] = ("HTTP edge gateway with a very long name " * 6)[:200]
json.dump(design, open(f"{work}/long-name.syncopate", "w"), indent=2)
EOF
cp "$root"/samples/*.syncopate "$work/"

# start BINARY FILE SIZE THEME: a fresh virtual screen, data directory and app.
start() {
    local display
    display=:$(for n in $(seq 150 199); do [ -e /tmp/.X11-unix/X$n ] || { echo $n; break; }; done)
    Xvfb "$display" -screen 0 "$3x24" -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    sleep 1
    export DISPLAY=$display XDG_DATA_HOME=$work/data-$RANDOM XDG_RUNTIME_DIR=$work/runtime
    mkdir -p "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME/syncopate"
    echo "\"$4\"" >"$XDG_DATA_HOME/syncopate/theme.json"
    "$1" "$work/$2" >"$work/app.log" 2>&1 &
    pid=$!
    sleep 4
    # There is no window manager: the window opens at its default 1280x800 and is resized to the screen.
    xdotool search --name Syncopate windowsize %@ "${3%x*}" "${3#*x}" 2>/dev/null || true
    sleep 1
    xdotool windowfocus "$(xdotool search --pid $pid | head -1)" 2>/dev/null || true
}
stop() { kill "$pid" "$xvfb" 2>/dev/null || true; wait "$pid" "$xvfb" 2>/dev/null || true; }
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1}"; }
# shot NAME [CROP]: the screen (pointer parked off the controls unless asked), cut to CROP (WxH+X+Y).
shot() {
    [ "${keep_pointer:-}" ] || { xdotool mousemove 700 11; sleep 0.7; }
    import -window root "$work/full.png"
    convert "$work/full.png" ${2:+-crop "$2" +repage} -colors 64 "$here/$1.png"
    echo "saved docs/ui-review/$1.png"
}

# ONLY=pass retakes the pass over the panels alone.
[ "${ONLY:-}" = pass ] || for build in before after; do
    bin=$before
    [ $build = after ] && bin=$after
    # 1. Three clicks on + Service.
    start "$bin" payment-guarded.syncopate 1280x800 dark
    click 37 34; click 37 34; click 37 34
    shot 1-add-service-$build 1000x460+0+70
    stop
    # 2 and 6. The warnings of a design whose services have names; long rows.
    start "$bin" ecommerce.syncopate 1280x800 dark
    shot 2-names-$build 1000x240+0+560
    # 7. Opening the first warning.
    click 300 604
    shot 7-open-warning-$build 1000x730+0+70
    stop
    # 3. Charts after a "fastest" run of payment-guarded (its planned fault makes payment fail from 22 to 53 s).
    start "$bin" payment-guarded.syncopate 1280x800 dark
    click 306 57; click 290 146; click 100 57 12
    click 293 541 2
    shot 3-charts-$build 1000x270+0+530
    stop
    # 4. The sequence diagram of a design with a 200-character name.
    start "$bin" long-name.syncopate 1280x800 dark
    click 161 541 2
    shot 4-sequence-$build 1000x270+0+530
    stop
    # 5. File > Export..., "Save all files to a folder..." where no file dialog can be shown (no portal, no
    # zenity on the virtual screen), then "Copy this file".
    start "$bin" ecommerce.syncopate 1280x800 dark
    click 19 11; click 40 171; click 107 96 3
    shot 5-save-all-$build 1280x90+0+710
    click 243 96 0.3
    shot 5-copy-$build 780x160+0+20
    stop
    # 8. Three notches of the plain mouse wheel over the canvas.
    start "$bin" ecommerce.syncopate 1280x800 dark
    xdotool mousemove 500 300; for _ in 1 2 3; do xdotool click 4; sleep 0.3; done; sleep 1
    keep_pointer=1 shot 8-wheel-$build 1000x460+0+70
    stop
    # 9. Labels, brokers and lines on order-saga.
    start "$bin" order-saga.syncopate 1280x800 dark
    shot 9-order-saga-$build 700x230+300+200
    stop
    # 10. Run on a design without flows (the pointer left on Run: the reason shows on hover).
    start "$bin" no-flows.syncopate 1280x800 dark
    click 100 57 1; xdotool mousemove 102 58; sleep 1; xdotool mousemove 101 57; sleep 2
    keep_pointer=1 shot 10-no-flows-$build 700x160+0+20
    stop
done

# The pass over every panel, in this build: warnings, then the dashboard of a fastest run, light and dark.
for size in 1280x800 1920x1080; do
    height=${size#*x}
    for theme in light dark; do
        start "$after" ecommerce.syncopate "$size" "$theme"
        shot "pass-$size-$theme-warnings"
        click 306 57; click 290 146; click 100 57 8
        # The dashboard tab sits at the same x at both sizes, 259 px above the bottom.
        click 293 $((height - 259)) 2
        shot "pass-$size-$theme-dashboard"
        stop
    done
done
