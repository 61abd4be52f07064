// Many small rigid parts (all robot arms, all conveyor items) as ONE merged mesh whose vertices are transformed on the CPU every frame.
// Software WebGL (SwiftShader, what headless Chromium uses without a GPU) pays a fixed cost per
// instance of an instanced draw, so 6,000 instanced boxes draw slower than 150,000 vertices in a
// single draw; the forward kinematics runs in JS anyway. Only positions are uploaded per frame:
// shared corners (8 per box) and flat shading from screen-space derivatives instead of normals,
// which keeps the per-frame upload small. Never allocates per frame.
import * as THREE from 'three';
import { mergeVertices } from 'three/examples/jsm/utils/BufferGeometryUtils.js';

export interface PartTemplate {
  geometry: THREE.BufferGeometry; // any three.js geometry; only its positions are used
  color: number | null; // fixed colour, or null: the robot's health colour
}

export class MergedParts {
  readonly mesh: THREE.Mesh;
  private readonly pos: Float32Array;
  private readonly col: Float32Array;
  private readonly tplPos: Float32Array[];
  private readonly offsets: number[]; // first vertex of each part within one robot
  private readonly perRobot: number; // vertices per robot

  private readonly geos: THREE.BufferGeometry[];

  constructor(private parts: PartTemplate[], readonly count: number) {
    this.geos = parts.map((p) => {
      const g = p.geometry.clone();
      for (const name of Object.keys(g.attributes)) if (name !== 'position') g.deleteAttribute(name);
      return mergeVertices(g);
    });
    this.tplPos = this.geos.map((g) => g.getAttribute('position').array as Float32Array);
    this.offsets = [];
    let v = 0, idx = 0;
    for (const g of this.geos) {
      this.offsets.push(v);
      v += g.getAttribute('position').count;
      idx += g.index!.count;
    }
    this.perRobot = v;
    const n = Math.max(1, count);
    this.pos = new Float32Array(n * v * 3);
    this.col = new Float32Array(n * v * 3);
    const index = new Uint32Array(n * idx);
    let k = 0;
    for (let r = 0; r < count; r++) {
      this.geos.forEach((g, pi) => {
        const base = r * v + this.offsets[pi];
        const src = g.index!.array;
        for (let i = 0; i < src.length; i++) index[k++] = base + src[i];
      });
    }
    const geo = new THREE.BufferGeometry();
    geo.setAttribute('position', new THREE.BufferAttribute(this.pos, 3).setUsage(THREE.DynamicDrawUsage));
    geo.setAttribute('color', new THREE.BufferAttribute(this.col, 3).setUsage(THREE.DynamicDrawUsage));
    geo.setIndex(new THREE.BufferAttribute(index, 1));
    this.mesh = new THREE.Mesh(geo, new THREE.MeshLambertMaterial({ vertexColors: true, flatShading: true }));
    this.mesh.frustumCulled = false;
    const c = new THREE.Color();
    for (let r = 0; r < count; r++) this.setColor(r, c.setHex(0x4a5563));
  }

  // Places part `part` of robot `robot` with the rigid transform `m` (rotation + translation).
  setPart(robot: number, part: number, m: THREE.Matrix4): void {
    const e = m.elements;
    const src = this.tplPos[part];
    let o = (robot * this.perRobot + this.offsets[part]) * 3;
    const pos = this.pos;
    for (let i = 0; i < src.length; i += 3, o += 3) {
      const x = src[i], y = src[i + 1], z = src[i + 2];
      pos[o] = e[0] * x + e[4] * y + e[8] * z + e[12];
      pos[o + 1] = e[1] * x + e[5] * y + e[9] * z + e[13];
      pos[o + 2] = e[2] * x + e[6] * y + e[10] * z + e[14];
    }
  }

  // Colours the health-coloured parts of a robot (the fixed-colour parts keep theirs).
  setColor(robot: number, health: THREE.Color): void {
    const c = new THREE.Color();
    this.parts.forEach((p, pi) => {
      const col = p.color === null ? health : c.setHex(p.color);
      let o = (robot * this.perRobot + this.offsets[pi]) * 3;
      const end = o + this.tplPos[pi].length;
      for (; o < end; o += 3) {
        this.col[o] = col.r;
        this.col[o + 1] = col.g;
        this.col[o + 2] = col.b;
      }
    });
    (this.mesh.geometry.getAttribute('color') as THREE.BufferAttribute).needsUpdate = true;
  }

  commit(): void {
    const g = this.mesh.geometry;
    (g.getAttribute('position') as THREE.BufferAttribute).needsUpdate = true;
  }
}
