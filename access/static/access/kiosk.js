/* Justface door kiosk: pairs with a device token, watches the camera, sends a frame when a face
   is steady in front of it, shows the decision, and always offers the PIN pad.

   "Steady face" heuristic (no face detector in the browser): the video is sampled as a 48x36
   grey image every 150 ms. A frame is sent when (1) the picture has not moved for 4 samples
   (mean absolute difference between samples < MOTION), (2) it differs from the last scene the
   server found empty (< CHANGE means nobody is there), and (3) something moved since the last
   frame sent, so a person standing still is not scanned over and over. */
(() => {
  "use strict";
  const TEXTS = JSON.parse(document.getElementById("kiosk-texts").textContent);
  const API = "/api/v1/door/";
  const STORE = "justface.door.token";
  const VERSION = "kiosk-1";
  // The statuses beyond pending/granted/denied this page can answer (declared in every heartbeat
  // and with every scan): a tablet that does not declare one never gets it (docs/door.md).
  const SUPPORTS = ["challenge", "confirm"];
  const TICK_MS = 150, MOTION = 6, CHANGE = 14, STEADY_TICKS = 4;
  const SHOW_MS = 4000, LEAVE_MS = 20000, HEARTBEAT_MS = 60000, MAX_SIDE = 640;
  // A scan is a burst of BURST frames, BURST_GAP_MS apart: the server fuses the frames that show
  // one good face into one decision (steadier than one frame; docs/door.md).
  // One frame for now: a synthetic 3-frame burst gained nothing measurable on dev (docs/door.md) and
  // costs the server a template per frame; real bursts (pose changes) may differ.
  const BURST = 1, BURST_GAP_MS = 150;

  const $ = (id) => document.getElementById(id);
  let lang = "en", busy = false, direction = "in", leaveTimer = null, resultTimer = null;
  // A grey-zone face: the scan waiting for its member's PIN (the pad then asks the PIN only).
  let confirming = null;
  let previous = null, background = null, steady = 0, armed = true;

  const t = (key) => (TEXTS[lang] || TEXTS.en)[key];
  const token = () => localStorage.getItem(STORE);

  function applyTexts() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    $("prompt").textContent = t(direction === "out" ? "look_out" : "look_in");
  }

  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  class Unauthorised extends Error {}
  // 503: the server is up but cannot decide (its database is away); the PIN pad or the staff help.
  class Unavailable extends Error {}

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: "Device " + token() }, options.headers || {});
    const response = await fetch(API + path, Object.assign({}, options, { headers }));
    if (response.status === 401) throw new Unauthorised();
    if (response.status === 503) throw new Unavailable();
    return response;
  }

  // A request that failed on the network is sent again once with the same Idempotency-Key:
  // the server then answers with the same scan instead of deciding twice.
  async function postOnce(path, body, headers = {}) {
    const options = { method: "POST", body, headers: Object.assign({ "Idempotency-Key": newKey() }, headers) };
    try {
      return await api(path, options);
    } catch (error) {
      if (error instanceof Unauthorised || error instanceof Unavailable) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
      return api(path, options);
    }
  }

  async function heartbeat(camera) {
    const response = await api("heartbeat/", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ app_version: VERSION, supports: SUPPORTS, ...(camera ? { camera } : {}) }),
    });
    if (!response.ok) throw new Error("heartbeat " + response.status);
    const config = await response.json();
    lang = config.language;
    $("centre").textContent = config.centre;
    $("door-name").textContent = config.door;
    applyTexts();
  }

  function showPairing(message) {
    localStorage.removeItem(STORE);
    $("door").hidden = true;
    $("pin-pad").hidden = true;
    $("pairing").hidden = false;
    $("pair-error").textContent = message || "";
    applyTexts();
  }

  function handleFailure(error) {
    if (error instanceof Unauthorised) showPairing(t("revoked"));
    else showResult({ status: "denied", message: t(error instanceof Unavailable ? "unavailable" : "offline") });
  }

  // --- decisions ------------------------------------------------------------------------------

  function showResult(decision) {
    const box = $("result");
    box.className = decision.status;
    box.textContent = decision.message;
    clearTimeout(resultTimer);
    resultTimer = setTimeout(() => { box.className = ""; box.textContent = ""; }, SHOW_MS);
    setDirection("in");
  }

  // The final decision, polling while it is pending; input the server refused shows `refusedText`.
  async function finalDecision(response, refusedText) {
    if (response.status >= 400 && response.status < 500) return { status: "denied", message: t(refusedText) };
    if (!response.ok) throw new Error("door API " + response.status);
    let decision = await response.json();
    while (decision.status === "pending") {
      decision = await (await api(`scans/${decision.id}/?wait=5`)).json();
    }
    return decision;
  }

  function grabFrame() {
    const video = $("video"), canvas = $("frame");
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
  }

  // --- liveness challenge ------------------------------------------------------------------------
  // The server may answer a scan with status "challenge": show the instruction (an arrow and a
  // sentence, the member's own left or right), take `frames` frames `interval_ms` apart while
  // they turn, and send them as one burst. The answer is the scan's decision.

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function answerChallenge(decision) {
    const challenge = decision.challenge;
    if (!challenge || !challenge.nonce) return { status: "denied", message: t("offline") };
    const box = $("challenge");
    // The preview is mirrored, so the member's left is the screen's left: the arrow points there.
    $("challenge-arrow").textContent = challenge.instruction === "turn_left" ? "\u2190" : "\u2192";
    $("challenge-text").textContent = challenge.message;
    box.hidden = false;
    $("result").className = "";
    $("result").textContent = "";
    try {
      await sleep(400);  // time to read before the first frame: it should still face the camera
      const form = new FormData();
      form.append("nonce", challenge.nonce);
      for (let i = 0; i < challenge.frames; i++) {
        form.append("frames", await grabFrame(), `frame${i}.jpg`);
        if (i + 1 < challenge.frames) await sleep(challenge.interval_ms);
      }
      box.hidden = true;
      $("result").className = "pending";
      $("result").textContent = t("checking");
      return await finalDecision(await api(`scans/${decision.id}/challenge/`, { method: "POST", body: form }), "camera_off");
    } finally {
      box.hidden = true;
    }
  }

  async function sendFrame(sample) {
    busy = true;
    $("result").className = "pending";
    $("result").textContent = t("checking");
    try {
      const form = new FormData();
      for (let n = 1; n <= BURST; n++) {
        if (n > 1) await new Promise((resolve) => setTimeout(resolve, BURST_GAP_MS));
        form.append(n === 1 ? "image" : `image${n}`, await grabFrame(), `frame${n}.jpg`);
      }
      form.append("direction", direction);
      SUPPORTS.forEach((feature) => form.append("supports", feature));
      let decision = await finalDecision(await postOnce("scans/", form), "camera_off");
      if (decision.status === "challenge") decision = await answerChallenge(decision);
      if (decision.reason === "no_face") background = sample;  // remember what an empty door looks like
      if (decision.status === "confirm") openPinPad(decision);
      else showResult(decision);
    } catch (error) {
      handleFailure(error);
    } finally {
      busy = false;
    }
  }

  // --- steady-face watcher ----------------------------------------------------------------------

  function grey() {
    const context = $("sample").getContext("2d", { willReadFrequently: true });
    context.drawImage($("video"), 0, 0, 48, 36);
    const rgba = context.getImageData(0, 0, 48, 36).data, out = new Float32Array(48 * 36);
    for (let i = 0; i < out.length; i++) out[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    return out;
  }

  const difference = (a, b) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0) / a.length;

  function watch() {
    const video = $("video");
    if (busy || !$("pin-pad").hidden || $("door").hidden || video.readyState < 2) return;
    const sample = grey();
    if (previous) {
      const moving = difference(sample, previous) > MOTION;
      steady = moving ? 0 : steady + 1;
      if (moving) armed = true;
    }
    previous = sample;
    const someoneThere = !background || difference(sample, background) > CHANGE;
    if (armed && someoneThere && steady >= STEADY_TICKS) {
      armed = false;
      sendFrame(sample);
    }
  }

  async function startCamera() {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: 640, height: 480 }, audio: false });
      $("video").srcObject = stream;
      return "ok";
    } catch (error) {
      $("result").className = "denied";
      $("result").textContent = t("camera_off");
      return error.name === "NotAllowedError" ? "no_permission" : error.name === "NotFoundError" ? "not_found" : "error";
    }
  }

  // --- PIN pad ----------------------------------------------------------------------------------

  // `scan`: a grey-zone decision (status confirm): only the PIN is asked, never a member number,
  // and the pad says why in the door's language. Without it: the ordinary PIN entry.
  function openPinPad(scan) {
    confirming = scan && scan.status === "confirm" ? scan : null;
    $("member-number").value = "";
    $("pin").value = "";
    $("pin-error").textContent = "";
    $("member-number-field").hidden = Boolean(confirming);
    $("pin-prompt").hidden = !confirming;
    $("pin-prompt").textContent = confirming ? confirming.message : "";
    $("result").className = "";
    $("result").textContent = "";
    $("pin-pad").hidden = false;
    (confirming ? $("pin") : $("member-number")).focus();
  }

  function closePinPad() {
    $("pin-pad").hidden = true;
    confirming = null;
  }

  async function submitPin(event) {
    event.preventDefault();
    const memberNumber = $("member-number").value.trim(), pin = $("pin").value;
    if ((!confirming && !memberNumber) || !/^\d{4,8}$/.test(pin)) {
      $("pin-error").textContent = t("pin_format");
      return;
    }
    busy = true;
    try {
      const [path, body] = confirming
        ? [`scans/${confirming.id}/confirm/`, JSON.stringify({ pin })]
        : ["pin/", JSON.stringify({ member_number: memberNumber, pin, direction })];
      const decision = await finalDecision(await postOnce(path, body, { "Content-Type": "application/json" }), "pin_format");
      closePinPad();
      showResult(decision);
    } catch (error) {
      closePinPad();
      handleFailure(error);
    } finally {
      busy = false;
    }
  }

  function setDirection(value) {
    direction = value;
    clearTimeout(leaveTimer);
    if (value === "out") leaveTimer = setTimeout(() => setDirection("in"), LEAVE_MS);
    $("leave-button").classList.toggle("active", value === "out");
    $("prompt").textContent = t(value === "out" ? "look_out" : "look_in");
  }

  // --- start --------------------------------------------------------------------------------------

  async function startDoor() {
    $("pairing").hidden = true;
    $("door").hidden = false;
    const camera = await startCamera();
    try {
      await heartbeat(camera);
    } catch (error) {
      handleFailure(error);
    }
  }

  $("pair-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    localStorage.setItem(STORE, $("pair-token").value.trim());
    try {
      await heartbeat();
      $("pair-token").value = "";
      startDoor();
    } catch (error) {
      showPairing(t(error instanceof Unauthorised ? "pair_failed" : error instanceof Unavailable ? "unavailable" : "offline"));
    }
  });
  $("pin-button").addEventListener("click", () => openPinPad());
  $("leave-button").addEventListener("click", () => setDirection(direction === "out" ? "in" : "out"));
  $("pin-cancel").addEventListener("click", closePinPad);
  $("pin-clear").addEventListener("click", () => { $("pin").value = ""; });
  document.querySelectorAll("[data-digit]").forEach((key) => key.addEventListener("click", () => {
    if ($("pin").value.length < 8) $("pin").value += key.dataset.digit;
  }));
  $("pin-form").addEventListener("submit", submitPin);

  setInterval(watch, TICK_MS);
  setInterval(() => { if (token() && !$("door").hidden) heartbeat().catch(handleFailure); }, HEARTBEAT_MS);
  if (token()) startDoor(); else showPairing();
})();
