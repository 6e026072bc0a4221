//! Calls drawn around the boxes they would cross. A straight line from one service to another that passes through
//! a third box reads as a call to it (a database call through a broker looks like one through the broker), so such
//! a call is drawn as a curve bent sideways just enough to clear every box, the smallest bend first.
//!
//! All positions here are in canvas units. A call's path is a polyline: two points when straight, or
//! [`CURVE_POINTS`] samples of a quadratic curve whose middle lies `sideways` off the straight line.

use egui::{Pos2, Rect, Vec2};

/// Samples of a bent call's curve.
pub(super) const CURVE_POINTS: usize = 17;

/// How far a bent call keeps from the boxes it passes, in canvas units.
const CLEARANCE: f32 = 8.0;

/// The bends tried, in steps of this many canvas units, on either side.
const BEND_STEP: f32 = 22.0;

/// The most steps tried on each side before the call is left straight (nothing that small clears the boxes).
const MAX_BEND_STEPS: usize = 14;

/// The unit normal of the line from `a` to `b` (the left-hand side, y pointing down), or zero when they coincide.
pub(super) fn normal(a: Pos2, b: Pos2) -> Vec2 {
    let dir = (b - a).normalized();
    if !dir.x.is_finite() || !dir.y.is_finite() {
        return Vec2::ZERO;
    }
    Vec2::new(-dir.y, dir.x)
}

/// The control point of the quadratic curve from `a` to `b` whose middle lies `sideways` off the straight line.
pub(super) fn control_point(a: Pos2, b: Pos2, sideways: f32) -> Pos2 {
    // A quadratic curve's middle is halfway between the chord's middle and the control point.
    a + (b - a) / 2.0 + normal(a, b) * (2.0 * sideways)
}

/// [`CURVE_POINTS`] points of the quadratic curve from `from` to `to` pulled towards `control`.
pub(super) fn quadratic(from: Pos2, control: Pos2, to: Pos2) -> Vec<Pos2> {
    (0..CURVE_POINTS)
        .map(|i| {
            let t = i as f32 / (CURVE_POINTS - 1) as f32;
            let u = 1.0 - t;
            Pos2::new(
                u * u * from.x + 2.0 * u * t * control.x + t * t * to.x,
                u * u * from.y + 2.0 * u * t * control.y + t * t * to.y,
            )
        })
        .collect()
}

/// The point `t` of the way along a polyline (by length, 0 at its start) and the unit direction there.
pub(super) fn point_along(points: &[Pos2], t: f32) -> (Pos2, Vec2) {
    let total: f32 = points.windows(2).map(|w| (w[1] - w[0]).length()).sum();
    let mut left = total * t.clamp(0.0, 1.0);
    for pair in points.windows(2) {
        let length = (pair[1] - pair[0]).length();
        if left <= length && length > 0.0 {
            return (
                pair[0] + (pair[1] - pair[0]) * (left / length),
                (pair[1] - pair[0]) / length,
            );
        }
        left -= length;
    }
    match points {
        [.., before, last] => (*last, (*last - *before).normalized()),
        [only] => (*only, Vec2::X),
        [] => (Pos2::ZERO, Vec2::X),
    }
}

/// The shortest distance from `point` to a polyline.
pub(super) fn distance_to_path(point: Pos2, points: &[Pos2]) -> f32 {
    points
        .windows(2)
        .map(|w| super::shapes::distance_to_segment(point, w[0], w[1]))
        .fold(f32::INFINITY, f32::min)
}

/// Whether the segment from `a` to `b` passes through `rect` (Liang-Barsky clipping).
pub(super) fn segment_hits_rect(a: Pos2, b: Pos2, rect: Rect) -> bool {
    let d = b - a;
    let (mut low, mut high) = (0.0f32, 1.0f32);
    for (p, q) in [
        (-d.x, a.x - rect.min.x),
        (d.x, rect.max.x - a.x),
        (-d.y, a.y - rect.min.y),
        (d.y, rect.max.y - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                low = low.max(r);
            } else {
                high = high.min(r);
            }
            if low > high {
                return false;
            }
        }
    }
    true
}

/// How far sideways (canvas units, along [`normal`] of `a` to `b`) the middle of the call from the box centred at
/// `a` to the one centred at `b` must bend so that it crosses none of `boxes` (every other box on the canvas; the
/// two ends' own boxes are left out by the caller): 0 when the straight line is clear, or when no bend of up to
/// `MAX_BEND_STEPS` steps clears them (a crowded spot; straight is then the honest drawing). The side away from the
/// first box in the way is tried first, so a call goes round an obstacle the short way.
pub(super) fn bend_around(a: Pos2, b: Pos2, boxes: &[Rect]) -> f32 {
    let n = normal(a, b);
    if n == Vec2::ZERO {
        return 0.0;
    }
    let reach = (b - a).length() / 2.0 + MAX_BEND_STEPS as f32 * BEND_STEP + CLEARANCE;
    let near: Vec<Rect> = boxes
        .iter()
        .map(|r| r.expand(CLEARANCE))
        .filter(|r| {
            let middle = a + (b - a) / 2.0;
            (r.center() - middle).length() <= reach + r.size().length() / 2.0
        })
        .collect();
    let Some(first) = near
        .iter()
        .filter(|r| segment_hits_rect(a, b, **r))
        .min_by(|x, y| {
            (x.center() - a)
                .length_sq()
                .total_cmp(&(y.center() - a).length_sq())
        })
    else {
        return 0.0;
    };
    // The obstacle's centre on the normal's side: go round the other side first.
    let away = if (first.center() - a).dot(n) > 0.0 {
        -1.0
    } else {
        1.0
    };
    for step in 1..=MAX_BEND_STEPS {
        for side in [away, -away] {
            let sideways = side * step as f32 * BEND_STEP;
            let curve = quadratic(a, control_point(a, b, sideways), b);
            let clear = curve
                .windows(2)
                .all(|w| !near.iter().any(|r| segment_hits_rect(w[0], w[1], *r)));
            if clear {
                return sideways;
            }
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_box(center: Pos2) -> Rect {
        Rect::from_center_size(center, Vec2::new(100.0, 36.0))
    }

    #[test]
    fn a_call_past_no_box_stays_straight() {
        let boxes = [unit_box(Pos2::new(200.0, 200.0))];
        assert_eq!(
            bend_around(Pos2::new(0.0, 0.0), Pos2::new(400.0, 0.0), &boxes),
            0.0
        );
    }

    #[test]
    fn a_call_through_a_box_bends_just_clear_of_it_the_short_way() {
        // A box a little below the line: the call goes over it (up, negative y), with the smallest bend.
        let a = Pos2::new(0.0, 0.0);
        let b = Pos2::new(500.0, 0.0);
        let obstacle = unit_box(Pos2::new(250.0, 8.0));
        let boxes = [obstacle];
        let sideways = bend_around(a, b, &boxes);
        assert!(sideways != 0.0);
        let curve = quadratic(a, control_point(a, b, sideways), b);
        let middle = curve[CURVE_POINTS / 2];
        assert!(middle.y < obstacle.min.y, "went the long way: {middle:?}");
        assert!(
            curve
                .windows(2)
                .all(|w| !segment_hits_rect(w[0], w[1], obstacle)),
            "the curve still crosses the box"
        );
        // The next smaller bend would not have cleared it.
        let smaller = sideways - sideways.signum() * BEND_STEP;
        let tighter = quadratic(a, control_point(a, b, smaller), b);
        assert!(tighter.windows(2).any(|w| segment_hits_rect(
            w[0],
            w[1],
            obstacle.expand(CLEARANCE)
        )));
    }

    #[test]
    fn segments_and_boxes() {
        let r = Rect::from_min_max(Pos2::new(0.0, 0.0), Pos2::new(10.0, 10.0));
        assert!(segment_hits_rect(
            Pos2::new(-5.0, 5.0),
            Pos2::new(15.0, 5.0),
            r
        ));
        assert!(!segment_hits_rect(
            Pos2::new(-5.0, 12.0),
            Pos2::new(15.0, 12.0),
            r
        ));
        assert!(!segment_hits_rect(
            Pos2::new(-5.0, -5.0),
            Pos2::new(-1.0, 20.0),
            r
        ));
        assert!(segment_hits_rect(
            Pos2::new(5.0, 5.0),
            Pos2::new(5.0, 6.0),
            r
        ));
    }

    #[test]
    fn points_along_a_path_are_measured_by_length() {
        let path = [
            Pos2::new(0.0, 0.0),
            Pos2::new(10.0, 0.0),
            Pos2::new(10.0, 30.0),
        ];
        let (at, dir) = point_along(&path, 0.5);
        assert_eq!(at, Pos2::new(10.0, 10.0));
        assert_eq!(dir, Vec2::new(0.0, 1.0));
        assert_eq!(point_along(&path, 1.0).0, Pos2::new(10.0, 30.0));
    }
}
