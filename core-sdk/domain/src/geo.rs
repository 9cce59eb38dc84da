//! Points on Earth and the distances between them.

/// Mean Earth radius used by the haversine formula, in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Why coordinates were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GeoError {
    /// Latitude outside [-90, 90] or not a finite number.
    #[error("latitude must be between -90 and 90")]
    Latitude,
    /// Longitude outside [-180, 180] or not a finite number.
    #[error("longitude must be between -180 and 180")]
    Longitude,
    /// Radius not a positive finite number of at most 20,000 km.
    #[error("radius must be between 0 and 20000 km")]
    Radius,
}

/// A validated WGS84 point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
}

/// A latitude/longitude rectangle that contains a circle (used as a cheap index pre-filter).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// Southern edge.
    pub min_lat: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Western edge (−180 when the circle wraps the antimeridian or a pole).
    pub min_lon: f64,
    /// Eastern edge (180 when the circle wraps the antimeridian or a pole).
    pub max_lon: f64,
}

impl GeoPoint {
    /// Validates and builds a point.
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(GeoError::Latitude);
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(GeoError::Longitude);
        }
        Ok(GeoPoint { lat, lon })
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = la2 - la1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }

    /// A rectangle containing every point within `radius_km` of this one.
    pub fn bounding_box(&self, radius_km: f64) -> Result<BoundingBox, GeoError> {
        if !radius_km.is_finite() || radius_km <= 0.0 || radius_km > 20_000.0 {
            return Err(GeoError::Radius);
        }
        // Slightly generous so that rounding never drops a point the exact check would keep.
        let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees() * 1.001;
        let min_lat = self.lat - dlat;
        let max_lat = self.lat + dlat;
        if min_lat <= -90.0 || max_lat >= 90.0 {
            return Ok(BoundingBox {
                min_lat: min_lat.max(-90.0),
                max_lat: max_lat.min(90.0),
                min_lon: -180.0,
                max_lon: 180.0,
            });
        }
        let ratio = (radius_km / EARTH_RADIUS_KM).sin() / self.lat.to_radians().cos();
        if ratio >= 1.0 {
            return Ok(BoundingBox {
                min_lat,
                max_lat,
                min_lon: -180.0,
                max_lon: 180.0,
            });
        }
        let dlon = ratio.asin().to_degrees() * 1.001;
        let (min_lon, max_lon) = (self.lon - dlon, self.lon + dlon);
        if min_lon < -180.0 || max_lon > 180.0 {
            // Wraps the antimeridian: fall back to every longitude; the exact check filters.
            return Ok(BoundingBox {
                min_lat,
                max_lat,
                min_lon: -180.0,
                max_lon: 180.0,
            });
        }
        Ok(BoundingBox {
            min_lat,
            max_lat,
            min_lon,
            max_lon,
        })
    }
}

impl BoundingBox {
    /// Whether the point lies inside the rectangle.
    pub fn contains(&self, p: &GeoPoint) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && (self.min_lon..=self.max_lon).contains(&p.lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(lat: f64, lon: f64) -> GeoPoint {
        match GeoPoint::new(lat, lon) {
            Ok(p) => p,
            Err(e) => panic!("test point invalid: {e}"),
        }
    }

    #[test]
    fn refuses_out_of_range_and_nan() {
        assert_eq!(GeoPoint::new(90.1, 0.0), Err(GeoError::Latitude));
        assert_eq!(GeoPoint::new(f64::NAN, 0.0), Err(GeoError::Latitude));
        assert_eq!(GeoPoint::new(0.0, -180.5), Err(GeoError::Longitude));
        assert_eq!(GeoPoint::new(0.0, f64::INFINITY), Err(GeoError::Longitude));
        assert!(GeoPoint::new(-90.0, 180.0).is_ok());
    }

    #[test]
    fn paris_to_lyon_is_about_392_km() {
        let d = pt(48.8566, 2.3522).distance_km(&pt(45.7640, 4.8357));
        assert!((d - 392.0).abs() < 2.0, "got {d}");
    }

    #[test]
    fn bounding_box_contains_points_within_radius() {
        let centre = pt(48.8566, 2.3522);
        let bbox = centre.bounding_box(50.0).unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for i in 0..360 {
            let bearing = f64::from(i).to_radians();
            // Walk ~49.9 km along the bearing with a small-distance approximation.
            let dlat = 49.9 / 111.2 * bearing.cos();
            let dlon = 49.9 / (111.2 * centre.lat().to_radians().cos()) * bearing.sin();
            let p = pt(centre.lat() + dlat, centre.lon() + dlon);
            if centre.distance_km(&p) <= 50.0 {
                assert!(bbox.contains(&p), "bearing {i} escaped the box");
                checked += 1;
            }
        }
        // The approximation lands inside the radius on (nearly) every bearing: a test that
        // skipped them all would prove nothing.
        assert!(
            checked >= 350,
            "only {checked} of 360 points were within 50 km"
        );
        assert!(!bbox.contains(&pt(45.7640, 4.8357)));
        assert_eq!(centre.bounding_box(0.0), Err(GeoError::Radius));
        assert_eq!(centre.bounding_box(f64::NAN), Err(GeoError::Radius));
    }

    #[test]
    fn boxes_near_the_antimeridian_and_poles_cover_all_longitudes() {
        let b = pt(0.0, 179.9)
            .bounding_box(100.0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(b.contains(&pt(0.0, -179.9)));
        let b = pt(89.9, 0.0)
            .bounding_box(100.0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(b.contains(&pt(89.5, 180.0)));
    }
}
