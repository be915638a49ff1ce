// The one function of topojson-client (ISC licence) that the world map uses. The package ships
// no type declarations.
declare module 'topojson-client' {
  /** Converts `object` of `topology` to a GeoJSON Feature or FeatureCollection. */
  export function feature(topology: unknown, object: unknown): unknown;
}
