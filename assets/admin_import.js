/* /admin/import: file inputs, and the upload of the chosen files in parts with a moving progress bar.
 *
 * Parts of at most PART_BYTES go to PUT /api/admin/imports/{id}/files/{kind}?offset=N, each under the
 * server's request-size limit. The admin token comes from the page's ?token=; without one the session
 * cookie is used, with the CSRF header Dash's own requests carry. Once uploaded, the check starts and the
 * job id goes into the "import-job" store; callbacks/admin_import.py follows the job from there.
 */
(function () {
  "use strict";
  var PART_BYTES = 4 * 1024 * 1024;
  var KINDS = ["orgs", "members", "links"];

  function addInputs() {
    document.querySelectorAll(".import-file-slot").forEach(function (slot) {
      if (slot.querySelector("input")) return;
      var input = document.createElement("input");
      input.type = "file";
      input.id = "import-file-" + slot.dataset.kind;
      input.accept = slot.dataset.accept || "";
      input.className = "form-control form-control-sm";
      slot.appendChild(input);
    });
  }

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function headers() {
    var token = new URLSearchParams(window.location.search).get("token");
    return token ? { Authorization: "Bearer " + token } : { "X-CSRFToken": cookie("_csrf_token") };
  }

  function call(method, path, body) {
    return fetch(path, { method: method, headers: headers(), body: body, credentials: "same-origin" }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw new Error(data.detail || r.status + " " + r.statusText);
        return data;
      });
    });
  }

  function show(percent, label, message) {
    if (!window.dash_clientside) return;
    window.dash_clientside.set_props("import-progress", { value: percent, label: label });
    if (message !== undefined) window.dash_clientside.set_props("import-stage", { children: message });
  }

  function fail(text, error) {
    if (window.dash_clientside) {
      window.dash_clientside.set_props("import-message", { children: text + " " + error.message });
    }
  }

  async function upload() {
    var texts = document.getElementById("import-texts").dataset;
    var files = {};
    KINDS.forEach(function (kind) {
      var input = document.getElementById("import-file-" + kind);
      if (input && input.files && input.files.length) files[kind] = input.files[0];
    });
    if (!files.orgs) { fail(texts.needOrgs, new Error("")); return; }
    var total = 0, sent = 0;
    Object.keys(files).forEach(function (k) { total += files[k].size; });
    window.dash_clientside.set_props("import-message", { children: null });
    try {
      var job = await call("POST", "/api/admin/imports");
      for (var kind of Object.keys(files)) {
        var file = files[kind];
        var offset = 0;
        do {  // an empty file still goes up once, so the server can say it is empty
          var path = "/api/admin/imports/" + job.id + "/files/" + kind + "?name=" + encodeURIComponent(file.name) + "&offset=" + offset;
          await call("PUT", path, file.slice(offset, offset + PART_BYTES));
          sent += Math.min(PART_BYTES, file.size - offset);
          offset += PART_BYTES;
          var percent = total ? Math.round((100 * sent) / total) : 100;
          show(percent, percent + "%", texts.uploading + " " + file.name);
        } while (offset < file.size);
      }
      await call("POST", "/api/admin/imports/" + job.id + "/check");
      window.dash_clientside.set_props("import-job", { data: job.id });
    } catch (error) {
      fail(texts.failed, error);
    }
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#import-upload")) upload();
  });
  new MutationObserver(function () {
    if (document.getElementById("import-page")) addInputs();
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
