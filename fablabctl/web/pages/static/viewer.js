// The 3D view of an STL with its problems drawn on it: hole edges (red), flipped faces (orange),
// the part's box (blue) on the bed (grey). three.js, served by the app itself.
import * as THREE from "./vendor/three/three.module.min.js";
import { OrbitControls } from "./vendor/three/OrbitControls.js";

const fr = document.body.dataset.lang !== "en";
const say = (f, e) => (fr ? f : e);
const COLORS = { part: 0x9fb3c8, hole: 0xe0001b, flipped: 0xff7a00, box: 0x1b4d89, bed: 0xb9c2cc };

function boxOf(positions) {
  const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      min[k] = Math.min(min[k], positions[i + k]);
      max[k] = Math.max(max[k], positions[i + k]);
    }
  }
  return positions.length ? { min, max } : { min: [0, 0, 0], max: [1, 1, 1] };
}

async function load(figure) {
  figure.dataset.viewerState = "loading";
  const status = figure.querySelector("[data-viewer-status]");
  const holder = figure.querySelector("[data-viewer-canvas]");
  const small = figure.classList.contains("small");
  let buffer, problems;
  try {
    // a thumbnail needs only the triangles; the report page also reads where the problems are
    const [a, b] = await Promise.all([
      fetch(figure.dataset.mesh, { credentials: "same-origin" }),
      figure.dataset.problems ? fetch(figure.dataset.problems, { credentials: "same-origin" }) : null,
    ]);
    if (!a.ok || (b && !b.ok)) throw new Error("http");
    buffer = await a.arrayBuffer();
    problems = b ? await b.json() : { box: boxOf(new Float32Array(buffer)) };
  } catch (e) {
    status.textContent = say("Impossible de charger la vue 3D.", "Could not load the 3D view.");
    figure.dataset.viewerState = "error";
    return;
  }
  figure.dataset.holeEdges = String(problems.hole_edge_count || 0);
  figure.dataset.flipped = String((problems.flipped_triangles || []).length / 9);
  const summary = figure.querySelector("[data-viewer-summary]");
  if (summary) {
    const parts = [];
    if (problems.hole_edge_count) parts.push(say(`${problems.hole_edge_count} bord(s) de trou en rouge`, `${problems.hole_edge_count} hole edge(s) in red`));
    if ((problems.flipped_triangles || []).length) parts.push(say(`${problems.flipped_triangles.length / 9} face(s) à l'envers en orange`, `${problems.flipped_triangles.length / 9} flipped face(s) in orange`));
    if (problems.inverted) parts.push(say("toute la pièce est retournée (intérieur dehors)", "the whole part is inside out"));
    summary.textContent = parts.length ? parts.join(" · ") : say("Aucune zone à problème sur la pièce.", "No problem area on the part.");
  }
  const bedLabel = figure.querySelector("[data-viewer-bed]");
  if (bedLabel && problems.bed) bedLabel.textContent = `${problems.bed.name} (${problems.bed.size.slice(0, 2).join(" × ")} mm)`;

  let renderer;
  try {
    renderer = new THREE.WebGLRenderer({ antialias: !small, preserveDrawingBuffer: true });
  } catch (e) {
    status.textContent = say("Cet appareil ne peut pas afficher la 3D ; la liste des problèmes reste juste à côté.",
      "This device cannot show 3D; the list of problems is right beside it.");
    figure.dataset.viewerState = "no-webgl";
    return;
  }
  const width = holder.clientWidth || 320, height = holder.clientHeight || 240;
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setSize(width, height, false);
  holder.appendChild(renderer.domElement);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xe9edf2);

  const positions = new Float32Array(buffer);
  const box = problems.box || { min: [0, 0, 0], max: [1, 1, 1] };
  const size = [0, 1, 2].map((i) => box.max[i] - box.min[i]);
  const bed = (problems.bed && problems.bed.size) || [size[0], size[1], size[2]];
  // the part stands on the bed, in its middle
  const shift = new THREE.Vector3(bed[0] / 2 - (box.min[0] + size[0] / 2), bed[1] / 2 - (box.min[1] + size[1] / 2), -box.min[2]);
  const group = new THREE.Group();
  group.position.copy(shift);
  scene.add(group);

  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
  geometry.computeVertexNormals();
  const part = new THREE.Mesh(geometry, new THREE.MeshLambertMaterial({
    color: COLORS.part, side: THREE.DoubleSide, polygonOffset: true, polygonOffsetFactor: 1, polygonOffsetUnits: 1 }));
  group.add(part);

  const edges = problems.hole_edges || [];
  if (edges.length) {
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.Float32BufferAttribute(edges, 3));
    const lines = new THREE.LineSegments(g, new THREE.LineBasicMaterial({ color: COLORS.hole, depthTest: false }));
    lines.renderOrder = 2;
    group.add(lines);
    // lines are one pixel wide in WebGL: thick red tubes along the first edges, so a beginner sees them
    const tube = new THREE.MeshBasicMaterial({ color: COLORS.hole });
    const radius = Math.max(...size) * 0.008;
    const a = new THREE.Vector3(), b = new THREE.Vector3(), up = new THREE.Vector3(0, 1, 0);
    for (let i = 0; i + 5 < edges.length && i < 6 * 3000; i += 6) {
      a.set(edges[i], edges[i + 1], edges[i + 2]);
      b.set(edges[i + 3], edges[i + 4], edges[i + 5]);
      const length = a.distanceTo(b);
      if (!(length > 0)) continue;
      const piece = new THREE.Mesh(new THREE.CylinderGeometry(radius, radius, length, 8), tube);
      piece.position.copy(a).add(b).multiplyScalar(0.5);
      piece.quaternion.setFromUnitVectors(up, b.clone().sub(a).normalize());
      group.add(piece);
    }
    // a ring around each hole, big enough to see on a phone
    const r = Math.max(...size) * 0.1;
    const holes = (problems.findings || []).filter((f) => f.code === "STL_NOT_WATERTIGHT");
    holes.forEach((f) => (f.location.points || []).forEach((p) => {
      const ring = new THREE.Mesh(new THREE.SphereGeometry(r, 16, 12),
        new THREE.MeshBasicMaterial({ color: COLORS.hole, transparent: true, opacity: 0.35, depthTest: false }));
      ring.position.set(p[0], p[1], p[2]);
      ring.renderOrder = 3;
      group.add(ring);
    }));
  }
  const flipped = problems.flipped_triangles || [];
  if (flipped.length) {
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.Float32BufferAttribute(flipped, 3));
    group.add(new THREE.Mesh(g, new THREE.MeshBasicMaterial({ color: COLORS.flipped, side: THREE.DoubleSide })));
  }
  if (problems.inverted) part.material.color.setHex(COLORS.flipped);
  const b3 = new THREE.Box3(new THREE.Vector3(...box.min), new THREE.Vector3(...box.max));
  group.add(new THREE.Box3Helper(b3, COLORS.box));

  const plane = new THREE.Mesh(new THREE.PlaneGeometry(bed[0], bed[1]),
    new THREE.MeshBasicMaterial({ color: COLORS.bed, side: THREE.DoubleSide, transparent: true, opacity: 0.7 }));
  plane.position.set(bed[0] / 2, bed[1] / 2, -0.01);
  scene.add(plane);
  const grid = new THREE.GridHelper(Math.max(bed[0], bed[1]), Math.round(Math.max(bed[0], bed[1]) / 10), 0x8a94a0, 0xc5ccd4);
  grid.rotation.x = Math.PI / 2;
  grid.position.set(bed[0] / 2, bed[1] / 2, 0);
  scene.add(grid);
  if (bed[2] > 0 && !small) {
    const vol = new THREE.Box3(new THREE.Vector3(0, 0, 0), new THREE.Vector3(bed[0], bed[1], bed[2]));
    scene.add(new THREE.Box3Helper(vol, 0xaab3be));
  }

  scene.add(new THREE.AmbientLight(0xffffff, 1.6));
  const light = new THREE.DirectionalLight(0xffffff, 2.2);
  light.position.set(1, -1.5, 2);
  scene.add(light);

  const camera = new THREE.PerspectiveCamera(40, width / height, 0.1, 100000);
  camera.up.set(0, 0, 1);
  const centre = new THREE.Vector3(bed[0] / 2, bed[1] / 2, size[2] / 2);
  const reach = small ? Math.max(...size) * 1.4 + 1 : Math.max(...size) * 2.2 + Math.min(bed[0], bed[1]) * 0.35;
  camera.position.set(centre.x + reach * 0.6, centre.y - reach * 1.1, centre.z + reach * 0.8);
  // look at the first hole from its side, so the problem faces the tigiste
  const hole = (problems.findings || []).find((f) => f.code === "STL_NOT_WATERTIGHT" && (f.location.points || []).length);
  if (hole && !small) {
    const p = hole.location.points[0];
    const mid = [0, 1, 2].map((i) => (box.min[i] + box.max[i]) / 2);
    const dir = new THREE.Vector3(p[0] - mid[0], p[1] - mid[1], p[2] - mid[2]);
    if (dir.lengthSq() > 0) {
      dir.normalize();
      dir.z = Math.max(dir.z, 0) + 0.5;
      dir.normalize();
      camera.position.copy(centre).addScaledVector(dir, reach * 1.3);
    }
  }
  if (small) { plane.visible = false; grid.visible = false; }
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.target.copy(centre);
  controls.update();
  const draw = () => renderer.render(scene, camera);
  controls.addEventListener("change", draw);
  new ResizeObserver(() => {
    const w = holder.clientWidth, h = holder.clientHeight;
    if (!w || !h) return;
    renderer.setSize(w, h, false);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
    draw();
  }).observe(holder);
  draw();
  status.textContent = small ? "" : say("Faites glisser pour tourner la pièce, molette ou pincement pour zoomer.",
    "Drag to turn the part, wheel or pinch to zoom.");
  figure.dataset.viewerState = "ready";
}

function start() {
  document.querySelectorAll("[data-viewer]:not([data-viewer-state])").forEach((f) => { load(f); });
}
start();
document.addEventListener("fablab:refreshed", start);
