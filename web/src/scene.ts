// The 3D plant (three.js): floor, lines, conveyors with moving items, robots as six-axis arms
// posed from their joint angles, sensors and controllers, each coloured by health. All arms are
// one merged mesh (and all items another) posed on the CPU, the few other parts InstancedMeshes,
// so 1,000 arms cost one draw call.
// It reads the plant state; it never fetches anything itself.
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { genericHealth, HEALTH_COLORS, robotHealth, type Health } from './health';
import { MergedParts } from './merged';
import type { PlantState } from './state';

const F = 'dtmi:castor:factory:';
const LINE_GAP = 9; // m between lines
const ROBOT_PITCH = 2.4; // m between robots along a line, per side
const DEG = Math.PI / 180;
const ITEMS_PER_BELT = 64; // most items drawn on one conveyor
const byId = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

interface RobotSlot { id: string; x: number; z: number; yaw: number; q: Float32Array; target: Float32Array; health: Health }
interface ConveyorSlot { id: string; x: number; z: number; length: number; phase: number; items: number; speed: number }
interface Placed { id: string; x: number; z: number }

export class PlantScene {
  readonly renderer: THREE.WebGLRenderer;
  readonly scene = new THREE.Scene();
  readonly camera: THREE.PerspectiveCamera;
  readonly controls: OrbitControls;
  private robots: RobotSlot[] = [];
  private conveyors: ConveyorSlot[] = [];
  private sensors: Placed[] = [];
  private controllers: Placed[] = [];
  private others: Placed[] = [];
  private meshes: Array<{ mesh: THREE.InstancedMesh; ids: string[] }> = [];
  private bases!: MergedParts; // per robot: its base (static)
  private arms!: MergedParts; // per robot: turret, upper arm, forearm, wrist, tool
  private belts!: THREE.InstancedMesh;
  private items!: MergedParts;
  private itemSlots = 0;
  private sensorMesh!: THREE.InstancedMesh;
  private controllerMesh!: THREE.InstancedMesh;
  private otherMesh!: THREE.InstancedMesh;
  private marker: THREE.Mesh;
  private selected: string | null = null;
  private positions = new Map<string, THREE.Vector3>();
  private dirtyColors = true;
  private readonly tmp = { m: new THREE.Matrix4(), a: new THREE.Matrix4(), b: new THREE.Matrix4(), c: new THREE.Color(), v1: new THREE.Vector3(), v2: new THREE.Vector3() };

  constructor(private host: HTMLElement, private state: PlantState) {
    this.renderer = new THREE.WebGLRenderer({ antialias: false, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 1.5));
    this.renderer.setClearColor(0x0b0f14);
    host.appendChild(this.renderer.domElement);
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.5, 2000);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.maxPolarAngle = Math.PI * 0.48;
    this.controls.minDistance = 3;
    this.controls.maxDistance = 900;
    this.scene.fog = new THREE.Fog(0x0b0f14, 150, 900);
    this.scene.add(new THREE.HemisphereLight(0xc8d6e8, 0x1a2028, 1.6));
    const sun = new THREE.DirectionalLight(0xffffff, 1.4);
    sun.position.set(40, 80, 30);
    this.scene.add(sun);
    this.marker = new THREE.Mesh(new THREE.RingGeometry(1.1, 1.35, 32), new THREE.MeshBasicMaterial({ color: 0x38bdf8, side: THREE.DoubleSide }));
    this.marker.rotation.x = -Math.PI / 2;
    this.marker.visible = false;
    this.scene.add(this.marker);
    new ResizeObserver(() => this.resize()).observe(host);
    this.resize();
  }

  private resize(): void {
    const w = Math.max(1, this.host.clientWidth), h = Math.max(1, this.host.clientHeight);
    this.renderer.setSize(w, h, false);
    this.renderer.domElement.style.width = '100%';
    this.renderer.domElement.style.height = '100%';
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  // Lays the plant out from the twin graph: lines in rows, robots on both sides of the line's
  // conveyor, sensors along it at their `position`, the controller at its head.
  build(): void {
    const s = this.state;
    const isA = (id: string, base: string) => s.models.isA(s.modelOf(id), F + base + ';1');
    const targets = (id: string, rel: string) => (s.outgoing.get(id) ?? []).filter((r) => r.$relationshipName === rel).map((r) => r.$targetId!).filter((t) => s.twins.has(t)).sort(byId);
    const lines = [...s.twins.keys()].filter((id) => isA(id, 'Line')).sort((a, b) => Number(s.twins.get(a)?.index ?? 0) - Number(s.twins.get(b)?.index ?? 0) || a.localeCompare(b));
    const placed = new Set<string>();
    let maxX = 10;
    lines.forEach((line, li) => {
      const z = li * LINE_GAP;
      const robots = targets(line, 'hasRobot');
      const convId = targets(line, 'hasConveyor')[0];
      const lengthProp = convId ? Number(s.twins.get(convId)?.lengthM ?? 24) : 24;
      const length = Math.max(lengthProp, Math.ceil(robots.length / 2) * ROBOT_PITCH + 2);
      maxX = Math.max(maxX, length);
      this.positions.set(line, new THREE.Vector3(length / 2, 0, z));
      placed.add(line);
      if (convId) {
        this.conveyors.push({ id: convId, x: 0, z, length, phase: Math.random() * length, items: 0, speed: 0 });
        this.positions.set(convId, new THREE.Vector3(length / 2, 0, z));
        placed.add(convId);
      }
      robots.forEach((id, k) => {
        const side = k % 2 === 0 ? -1 : 1;
        const x = 1.6 + Math.floor(k / 2) * ROBOT_PITCH;
        const rz = z + side * 2.3;
        this.robots.push({ id, x, z: rz, yaw: side < 0 ? Math.PI / 2 - 60 * DEG : -Math.PI / 2 - 60 * DEG, q: new Float32Array([-60, 40, -70, 0, 30, 0]), target: new Float32Array([-60, 40, -70, 0, 30, 0]), health: 'unknown' });
        this.positions.set(id, new THREE.Vector3(x, 0, rz));
        placed.add(id);
      });
      targets(line, 'hasSensor').forEach((id, k) => {
        const pos = Number(s.twins.get(id)?.position ?? 4 * (k + 1));
        const p = { id, x: Math.min(pos, length), z: z + 0.75 };
        this.sensors.push(p);
        this.positions.set(id, new THREE.Vector3(p.x, 0, p.z));
        placed.add(id);
      });
      targets(line, 'hasController').forEach((id) => {
        const p = { id, x: -2.2, z };
        this.controllers.push(p);
        this.positions.set(id, new THREE.Vector3(p.x, 0, p.z));
        placed.add(id);
      });
    });
    // Everything else (the factory, twins of other models) on a row in front of the lines.
    const rest = [...s.twins.keys()].filter((id) => !placed.has(id)).sort();
    rest.forEach((id, k) => {
      const p = { id, x: (k % 40) * 2.5, z: -8 - Math.floor(k / 40) * 2.5 };
      this.others.push(p);
      this.positions.set(id, new THREE.Vector3(p.x, 0, p.z));
    });
    this.buildFloor(maxX, lines.length);
    this.buildMeshes();
    // Frame the whole plant: its bounding circle seen from above and in front.
    const depth = Math.max(1, lines.length) * LINE_GAP;
    const radius = 0.5 * Math.hypot(maxX, depth);
    const dist = (radius / Math.sin((this.camera.fov / 2) * DEG)) * 0.8;
    this.controls.target.set(maxX / 2, 0, depth / 2 - LINE_GAP / 2);
    const dir = new THREE.Vector3(-0.1, 0.85, 0.52).normalize();
    this.camera.position.copy(this.controls.target).addScaledVector(dir, dist);
    this.controls.update();
  }

  private buildFloor(maxX: number, lines: number): void {
    const w = Math.max(maxX, Math.max(1, lines) * LINE_GAP) + 40, d = w;
    const floor = new THREE.Mesh(new THREE.PlaneGeometry(w, d), new THREE.MeshBasicMaterial({ color: 0x161d26 }));
    floor.rotation.x = -Math.PI / 2;
    floor.position.set(maxX / 2, -0.01, (lines * LINE_GAP) / 2 - LINE_GAP / 2);
    this.scene.add(floor);
    const grid = new THREE.GridHelper(w, Math.round(w / 2), 0x2a3441, 0x212a35);
    grid.position.copy(floor.position);
    this.scene.add(grid);
    const laneMat = new THREE.MeshBasicMaterial({ color: 0x2b3847 });
    for (let li = 0; li < lines; li++) {
      const lane = new THREE.Mesh(new THREE.PlaneGeometry(maxX + 6, 7.2), laneMat);
      lane.rotation.x = -Math.PI / 2;
      lane.position.set(maxX / 2 - 1, 0, li * LINE_GAP);
      this.scene.add(lane);
    }
  }

  private instanced(geo: THREE.BufferGeometry, color: number, count: number, ids: string[] | null): THREE.InstancedMesh {
    const mesh = new THREE.InstancedMesh(geo, new THREE.MeshLambertMaterial({ color: 0xffffff }), Math.max(1, count));
    mesh.count = count;
    mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
    const c = new THREE.Color(color);
    for (let i = 0; i < count; i++) mesh.setColorAt(i, c);
    mesh.frustumCulled = false;
    this.scene.add(mesh);
    if (ids) this.meshes.push({ mesh, ids });
    return mesh;
  }

  private buildMeshes(): void {
    this.bases = new MergedParts([{ geometry: new THREE.CylinderGeometry(0.32, 0.32, 0.3, 8), color: 0x39424e }], this.robots.length);
    this.scene.add(this.bases.mesh);
    this.arms = new MergedParts([
      { geometry: new THREE.BoxGeometry(0.42, 0.3, 0.42), color: null }, // turret (joint1)
      { geometry: new THREE.BoxGeometry(0.18, 0.9, 0.18), color: null }, // upper arm (joint2)
      { geometry: new THREE.BoxGeometry(0.14, 0.8, 0.14), color: null }, // forearm (joint3)
      { geometry: new THREE.BoxGeometry(0.12, 0.2, 0.12), color: 0x9aa6b2 }, // wrist (joint4, 5)
      { geometry: new THREE.BoxGeometry(0.2, 0.1, 0.06), color: 0xd8dee6 }, // tool (joint6)
    ], this.robots.length);
    this.scene.add(this.arms.mesh);
    const m = this.tmp.m;
    this.robots.forEach((r, i) => {
      m.makeRotationY(r.yaw).setPosition(r.x, 0.15, r.z);
      this.bases.setPart(i, 0, m);
    });
    this.bases.commit();
    const convIds = this.conveyors.map((c) => c.id);
    this.belts = this.instanced(new THREE.BoxGeometry(1, 0.12, 1.1), 0x303a46, this.conveyors.length, convIds);
    this.conveyors.forEach((c, i) => {
      m.makeScale(c.length, 1, 1).setPosition(c.length / 2, 0.7, c.z);
      this.belts.setMatrixAt(i, m);
    });
    const legs = this.instanced(new THREE.BoxGeometry(1, 0.64, 1.2), 0x222a33, this.conveyors.length, convIds);
    this.conveyors.forEach((c, i) => {
      m.makeScale(c.length, 1, 0.9).setPosition(c.length / 2, 0.32, c.z);
      legs.setMatrixAt(i, m);
    });
    this.itemSlots = this.conveyors.length * ITEMS_PER_BELT;
    this.items = new MergedParts([{ geometry: new THREE.BoxGeometry(0.3, 0.22, 0.3), color: 0xe8a33d }], this.itemSlots);
    this.scene.add(this.items.mesh);
    this.sensorMesh = this.instanced(new THREE.CylinderGeometry(0.09, 0.09, 1.2, 8), 0xffffff, this.sensors.length, this.sensors.map((p) => p.id));
    this.sensors.forEach((p, i) => {
      m.makeTranslation(p.x, 0.6, p.z);
      this.sensorMesh.setMatrixAt(i, m);
    });
    this.controllerMesh = this.instanced(new THREE.BoxGeometry(1, 1.8, 0.8), 0xffffff, this.controllers.length, this.controllers.map((p) => p.id));
    this.controllers.forEach((p, i) => {
      m.makeTranslation(p.x, 0.9, p.z);
      this.controllerMesh.setMatrixAt(i, m);
    });
    this.otherMesh = this.instanced(new THREE.BoxGeometry(1.2, 1.2, 1.2), 0x5b6b7d, this.others.length, this.others.map((p) => p.id));
    this.others.forEach((p, i) => {
      m.makeTranslation(p.x, 0.6, p.z);
      this.otherMesh.setMatrixAt(i, m);
    });
  }

  // New values arrived for these twins: take new joint targets and recolour.
  onValues(twins: Set<string>): void {
    if (!twins.size) return;
    const s = this.state;
    for (const r of this.robots) {
      if (!twins.has(r.id)) continue;
      for (let j = 0; j < 6; j++) {
        const a = s.num(r.id, `joint${j + 1}`, 'angle');
        if (a !== undefined) r.target[j] = a;
      }
    }
    this.dirtyColors = true;
  }

  healthOf(id: string): Health {
    const r = this.robots.find((x) => x.id === id);
    if (r) return r.health;
    return this.positions.has(id) ? genericHealth(this.state, id).health : 'unknown';
  }

  // The health of every robot as last coloured.
  healthCounts(): Health[] {
    return this.robots.map((r) => r.health);
  }

  private recolor(): void {
    const c = this.tmp.c;
    this.robots.forEach((r, i) => {
      const h = robotHealth(this.state, r.id).health;
      if (h === r.health && !this.firstColors) return;
      r.health = h;
      this.arms.setColor(i, c.setHex(HEALTH_COLORS[h]));
    });
    this.firstColors = false;
    const paint = (mesh: THREE.InstancedMesh, list: Placed[], lit?: (id: string) => boolean) => {
      list.forEach((p, i) => {
        c.setHex(HEALTH_COLORS[genericHealth(this.state, p.id).health]);
        if (lit?.(p.id)) c.setHex(0xfff3a0);
        mesh.setColorAt(i, c);
      });
      if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
    };
    paint(this.sensorMesh, this.sensors, (id) => this.state.get(id, undefined, 'blocked')?.value === true);
    paint(this.controllerMesh, this.controllers);
    this.conveyors.forEach((cv, i) => {
      const h = genericHealth(this.state, cv.id).health;
      c.setHex(h === 'ok' ? 0x34404d : HEALTH_COLORS[h]).multiplyScalar(h === 'ok' ? 1 : 0.6);
      this.belts.setColorAt(i, c);
    });
    if (this.belts.instanceColor) this.belts.instanceColor.needsUpdate = true;
  }

  // Software GL (SwiftShader) is bound by pixels: below 30 fps the canvas renders at a lower
  // resolution (down to 60 %), above 50 fps it goes back up. Returns the scale in use.
  adaptResolution(fps: number): number {
    const full = Math.min(window.devicePixelRatio, 1.5);
    let scale = this.renderScale;
    if (fps < 30 && scale > 0.6) scale = Math.max(0.6, scale - 0.1);
    else if (fps > 50 && scale < 1) scale = Math.min(1, scale + 0.1);
    if (scale !== this.renderScale) {
      this.renderScale = scale;
      this.renderer.setPixelRatio(full * scale);
      this.resize();
    }
    return scale;
  }

  private renderScale = 1;
  private firstColors = true;

  // Advances the animation by dt seconds and draws one frame.
  frame(dt: number): void {
    if (this.dirtyColors) {
      this.recolor();
      this.dirtyColors = false;
    }
    this.poseRobots(dt);
    this.moveItems(dt);
    if (this.selected) {
      const p = this.positions.get(this.selected);
      if (p) {
        this.marker.position.set(p.x, 0.03, p.z);
        const k = 1 + 0.08 * Math.sin(performance.now() / 180);
        this.marker.scale.set(k, k, k);
      }
    }
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }

  private poseRobots(dt: number): void {
    const { m, a, b } = this.tmp;
    const blend = 1 - Math.exp(-dt / 0.15);
    const arms = this.arms;
    const [turret, upper, fore, wrist, tool] = [0, 1, 2, 3, 4];
    const place = (part: number, i: number, frame: THREE.Matrix4, dy: number) => {
      b.makeTranslation(0, dy, 0);
      m.multiplyMatrices(frame, b);
      arms.setPart(i, part, m);
    };
    for (let i = 0; i < this.robots.length; i++) {
      const r = this.robots[i];
      const q = r.q;
      for (let j = 0; j < 6; j++) q[j] += (r.target[j] - q[j]) * blend;
      a.makeRotationY(r.yaw + q[0] * DEG).setPosition(r.x, 0.3, r.z); // joint1 frame
      place(turret, i, a, 0.15);
      a.multiply(b.makeTranslation(0, 0.3, 0)).multiply(b.makeRotationX(q[1] * DEG)); // shoulder
      place(upper, i, a, 0.45);
      a.multiply(b.makeTranslation(0, 0.9, 0)).multiply(b.makeRotationX((150 + q[2]) * DEG)); // elbow
      place(fore, i, a, 0.4);
      a.multiply(b.makeTranslation(0, 0.8, 0)).multiply(b.makeRotationY(q[3] * DEG)).multiply(b.makeRotationX(q[4] * DEG));
      place(wrist, i, a, 0.1);
      a.multiply(b.makeTranslation(0, 0.2, 0)).multiply(b.makeRotationY(q[5] * DEG));
      place(tool, i, a, 0.05);
    }
    arms.commit();
  }

  private moveItems(dt: number): void {
    const m = this.tmp.m;
    let n = 0;
    for (const c of this.conveyors) {
      const speed = this.state.num(c.id, undefined, 'speed') ?? 0;
      const load = this.state.num(c.id, undefined, 'load') ?? 0;
      const items = Math.min(ITEMS_PER_BELT, Math.round(load / 2.5));
      c.phase = (c.phase + speed * dt) % c.length;
      for (let k = 0; k < items; k++) {
        const x = (c.phase + (k * c.length) / items) % c.length;
        m.makeTranslation(x, 0.87, c.z);
        this.items.setPart(n++, 0, m);
      }
    }
    m.makeTranslation(0, -50, 0); // unused slots go below the floor
    for (let k = n; k < this.itemSlots; k++) this.items.setPart(k, 0, m);
    this.items.commit();
  }

  select(id: string | null): void {
    this.selected = id;
    this.marker.visible = !!id && this.positions.has(id);
  }

  // Moves the camera's target to the twin, keeping the viewing direction.
  focus(id: string): void {
    const p = this.positions.get(id);
    if (!p) return;
    const offset = this.camera.position.clone().sub(this.controls.target);
    if (offset.length() > 40) offset.setLength(40);
    this.controls.target.copy(p);
    this.camera.position.copy(p).add(offset);
  }

  // The twin under a canvas pixel, if any.
  pick(clientX: number, clientY: number): string | null {
    const rect = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(ndc, this.camera);
    let best: { d: number; id: string } | null = null;
    // Robots: the nearest whose vertical axis (0-2 m high) passes within 0.45 m of the ray.
    const closest = new THREE.Vector3(), onAxis = new THREE.Vector3();
    for (const r of this.robots) {
      const d2 = ray.ray.distanceSqToSegment(this.tmp.v1.set(r.x, 0, r.z), this.tmp.v2.set(r.x, 2, r.z), closest, onAxis);
      if (d2 > 0.45 * 0.45) continue;
      const d = closest.distanceTo(ray.ray.origin);
      if (!best || d < best.d) best = { d, id: r.id };
    }
    for (const { mesh, ids } of this.meshes) {
      mesh.boundingSphere = null; // instances move: recompute before casting
      for (const hit of ray.intersectObject(mesh, false)) {
        if (hit.instanceId === undefined || hit.instanceId >= ids.length) continue;
        if (!best || hit.distance < best.d) best = { d: hit.distance, id: ids[hit.instanceId] };
        break;
      }
    }
    return best?.id ?? null;
  }

  // Draws a frame and samples its pixels in the same task (the drawing buffer is only valid until
  // the browser composites it): how many differ from the background, and how many colours.
  pixelStats(): { sampled: number; lit: number; colours: number } {
    this.renderer.render(this.scene, this.camera);
    const c = this.renderer.domElement;
    const off = document.createElement('canvas');
    off.width = c.width;
    off.height = c.height;
    const g = off.getContext('2d')!;
    g.drawImage(c, 0, 0);
    const d = g.getImageData(0, 0, off.width, off.height).data;
    let lit = 0, sampled = 0;
    const colours = new Set<number>();
    for (let i = 0; i < d.length; i += 4 * 7) {
      sampled++;
      if (Math.abs(d[i] - 0x0b) + Math.abs(d[i + 1] - 0x0f) + Math.abs(d[i + 2] - 0x14) > 24) lit++;
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    return { sampled, lit, colours: colours.size };
  }

  // Where a twin is on screen (CSS pixels relative to the canvas), for tests and labels.
  screenPosition(id: string, height = 0.45): { x: number; y: number } | null {
    const p = this.positions.get(id);
    if (!p) return null;
    const v = p.clone().setY(height).project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: ((v.x + 1) / 2) * rect.width, y: ((1 - v.y) / 2) * rect.height };
  }
}
