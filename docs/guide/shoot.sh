#!/usr/bin/env bash
# Follows docs/guide.md in the real app, in a 1280x800 window on a virtual screen (Xvfb), clicking and typing as the
# guide says (xdotool), and saves the guide's screenshots into docs/guide/. Run it after a UI change:
#
#   cargo build && bash docs/guide/shoot.sh [path/to/syncopate]
#
# Needs Xvfb, xdotool and ImageMagick's `import`. The positions below are those of the default 1280x800 window on
# the e-commerce sample; a step that lands elsewhere shows in its screenshot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
app=${1:-$root/target/debug/syncopate}

display=:$(for n in $(seq 150 199); do [ -e /tmp/.X11-unix/X$n ] || { echo $n; break; }; done)
work=$(mktemp -d)
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
cleanup() {
    kill "${pid:-}" "$xvfb" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
sleep 1
export DISPLAY=$display XDG_DATA_HOME=$work/data XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$XDG_RUNTIME_DIR"
# A copy, so the sample in the repository is never touched.
cp "$root/samples/ecommerce.syncopate" "$work/ecommerce.syncopate"
"$app" "$work/ecommerce.syncopate" >"$work/app.log" 2>&1 &
pid=$!
sleep 4

# The pointer is moved off the controls first, so no tooltip covers the picture.
shot() {
    xdotool mousemove 700 11
    sleep 0.7
    import -window root "$here/$1.png"
    echo "saved docs/guide/$1.png"
}
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1}"; }
# Types into the value field at x, y: a click turns a number field into text; keys need the window focused.
type_into() {
    xdotool windowfocus "$(xdotool search --name Syncopate | head -1)"
    click "$1" "$2" 0.5
    xdotool key ctrl+a
    xdotool type "$3"
    xdotool key Return
    sleep 1
}

# 1. The sample as it opens.
shot 01-open
# 2. The second warning: the checkout flow's synchronous chain.
click 300 640
shot 02-warnings
# 3. Fit the view again, click empty canvas for the design's settings, plan a fault: payment, slow, x20, 10-20 s.
click 375 34
click 200 130
click 1060 640       # Planned faults (0)
click 1050 661       # + Fault
click 1125 661       # Service: the list of services
xdotool mousemove 1140 580 click 5 click 5 click 5
sleep 1
click 1105 615       # payment
click 1125 682       # Kind
click 1100 750       # slow
type_into 1112 745 20
shot 03-fault
# 4. Run at 1x and look at 17 s, in the middle of the slow spell.
click 100 57 17
shot 04-cascade
# 5. Finish the run at full speed and keep it as the baseline.
click 315 57         # speed
click 300 144 3      # fastest
click 620 571        # Keep as baseline
shot 05-baseline
# 6. Select the checkout -> payment call, route it through a broker, and let the shop stop waiting for payment.
click 612 434
shot 06-call
click 1090 299       # Route through a broker
click 1108 529       # Caller waits, flow checkout
shot 06-broker
# 7. Run the changed design and compare it with the baseline.
click 100 57 4
click 255 548        # Compare
shot 07-compare
# 8. The sequence diagram of the checkout flow, in a taller panel at a smaller zoom.
click 161 518        # Sequence diagram
click 135 548        # Flow
click 110 595        # Check out a cart
xdotool mousemove 500 506 sleep 0.3 mousedown 1 sleep 0.2 mousemove 500 480 sleep 0.2 mousemove 500 350 \
    sleep 0.2 mousemove 500 250 sleep 0.3 mouseup 1
sleep 1
type_into 300 291 0.62
shot 08-sequence
# 9. Export: Envoy, the checkout's sidecar; Kubernetes, the new broker.
click 20 11          # File
click 45 171         # Export...
click 124 66         # envoy
click 117 184        # envoy/checkout-sidecar.yaml
shot 09-envoy
click 230 66         # kubernetes
click 97 372         # kubernetes/payment-queue.yaml
shot 09-kubernetes
