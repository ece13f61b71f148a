// Take the enrollment photo with the browser camera: the snapshot becomes the form's file, so
// the upload path (and its server-side checks) is the same as choosing a file.
(function () {
  const box = document.querySelector("[data-camera]");
  const input = document.getElementById("id_photo");
  if (!box || !input || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer) return;
  box.hidden = false;
  const start = box.querySelector("[data-camera-start]");
  const snap = box.querySelector("[data-camera-snap]");
  const video = box.querySelector("video");
  const canvas = box.querySelector("canvas");
  const note = box.querySelector("[data-camera-note]");
  let stream = null;

  start.addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 1280 } }, audio: false });
    } catch (e) {
      note.textContent = box.dataset.denied;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    snap.hidden = false;
    start.hidden = true;
  });

  snap.addEventListener("click", () => {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob((blob) => {
      const files = new DataTransfer();
      files.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
      input.files = files.files;
      canvas.hidden = false;
      video.hidden = true;
      snap.hidden = true;
      start.hidden = false;
      stream.getTracks().forEach((t) => t.stop());
      note.textContent = box.dataset.ready;
    }, "image/jpeg", 0.92);
  });
})();
