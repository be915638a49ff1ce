/// <reference path="./types/topojson-client.d.ts" />
// Geometry of the offline world map in the enrichment view: land outlines from the world-atlas
// package (Natural Earth data, 1:110m) turned into one SVG path, and GeoIP coordinates placed on
// the same equirectangular projection. No `vscode` import and no DOM, so unit tests load it.

import { feature } from 'topojson-client';

export const MAP_WIDTH = 720;
export const MAP_HEIGHT = 360;

export interface MapPoint {
  x: number;
  y: number;
}

/** Places a longitude and latitude in degrees on the map, longitude 0 in the middle. */
export function project(longitude: number, latitude: number): MapPoint {
  const x = ((clamp(longitude, -180, 180) + 180) / 360) * MAP_WIDTH;
  const y = ((90 - clamp(latitude, -90, 90)) / 180) * MAP_HEIGHT;
  return { x: round(x), y: round(y) };
}

/**
 * Returns the SVG path data of the land in a world-atlas topology, for example the parsed
 * contents of `world-atlas/land-110m.json`. Throws when the topology has no object `name`.
 */
export function landPath(topology: unknown, name = 'land'): string {
  const objects = (topology as { objects?: Record<string, unknown> } | null)?.objects;
  const object = objects?.[name];
  if (object === undefined) {
    throw new Error(`the map data has no object named ${JSON.stringify(name)}`);
  }
  return geoJsonPath(feature(topology, object));
}

/** Returns the SVG path data of a GeoJSON Feature, FeatureCollection, Polygon or MultiPolygon. */
export function geoJsonPath(value: unknown): string {
  const parts: string[] = [];
  collectRings(value, parts);
  return parts.join('');
}

function collectRings(value: unknown, parts: string[]): void {
  if (typeof value !== 'object' || value === null) {
    return;
  }
  const node = value as { type?: unknown; features?: unknown; geometry?: unknown; coordinates?: unknown };
  switch (node.type) {
    case 'FeatureCollection':
      for (const item of Array.isArray(node.features) ? node.features : []) {
        collectRings(item, parts);
      }
      break;
    case 'Feature':
      collectRings(node.geometry, parts);
      break;
    case 'Polygon':
      ringsPath(node.coordinates, parts);
      break;
    case 'MultiPolygon':
      for (const polygon of Array.isArray(node.coordinates) ? node.coordinates : []) {
        ringsPath(polygon, parts);
      }
      break;
  }
}

function ringsPath(rings: unknown, parts: string[]): void {
  for (const ring of Array.isArray(rings) ? rings : []) {
    if (!Array.isArray(ring) || ring.length < 3) {
      continue;
    }
    const positions = ring.filter(isPosition);
    if (positions.length < 3) {
      continue;
    }
    // A step of more than 180 degrees of longitude crosses the antimeridian. Drawing it would
    // put a line across the whole map, so the path moves to the next point instead.
    let path = '';
    positions.forEach(([longitude, latitude], index) => {
      const point = project(longitude, latitude);
      const jumps = index > 0 && Math.abs(longitude - positions[index - 1][0]) > 180;
      path += `${index === 0 || jumps ? 'M' : 'L'}${point.x},${point.y}`;
    });
    parts.push(`${path}Z`);
  }
}

function isPosition(value: unknown): value is [number, number] {
  return Array.isArray(value) && Number.isFinite(value[0]) && Number.isFinite(value[1]);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
