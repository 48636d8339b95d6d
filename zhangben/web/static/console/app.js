// The console's only script (the CSP allows no inline script): the daily chart, the upload's
// progress bar and drop zone, the 对账 workspace's sums, and confirmations of supervisor actions.
(function () {
  "use strict";

  function money(v) {
    return v == null ? "" : v.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function drawChart(el) {
    fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        var opts = {
          width: Math.max(320, el.clientWidth || 800),
          height: 280,
          series: [
            { label: "日期", value: function (u, ts) { var i = d.timestamps.indexOf(ts); return i < 0 ? "" : d.days[i]; } },
            { label: "收入", stroke: "#2e7d32", fill: "rgba(46,125,50,0.25)", paths: uPlot.paths.bars({ size: [0.4, 40], align: -1 }), value: function (u, v) { return money(v); } },
            { label: "支出", stroke: "#c62828", fill: "rgba(198,40,40,0.25)", paths: uPlot.paths.bars({ size: [0.4, 40], align: 1 }), value: function (u, v) { return money(v); } },
            { label: "余额", stroke: "#1565c0", width: 2, scale: "bal", value: function (u, v) { return money(v); } }
          ],
          axes: [{}, { values: function (u, vals) { return vals.map(money); }, size: 80 },
                 { side: 1, scale: "bal", grid: { show: false }, values: function (u, vals) { return vals.map(money); }, size: 90 }],
          scales: { x: { time: true } },
          tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), d.tz); }
        };
        el.textContent = "";
        var chart = new uPlot(opts, [d.timestamps, d.income, d.expense, d.balance], el);
        // the legend shows the last point's values until (and after) the pointer is on it
        // (after uPlot's first commit, which runs in a microtask and clears the legend)
        var showLast = function () { if (d.timestamps.length) chart.setLegend({ idx: d.timestamps.length - 1 }); };
        el.addEventListener("mouseleave", function () { setTimeout(showLast, 0); });
        el.dataset.points = String(d.timestamps.length);
        setTimeout(function () { showLast(); el.dataset.drawn = "1"; }, 0);
        window.addEventListener("resize", function () { chart.setSize({ width: Math.max(320, el.clientWidth), height: 280 }); });
      })
      .catch(function () { el.textContent = "图表数据加载失败，请刷新页面。"; el.classList.add("error"); });
  }

  function setupUpload(form) {
    var input = form.querySelector("input[type=file]");
    var drop = form.querySelector(".drop");
    var bar = document.getElementById("upload-progress");
    var state = document.getElementById("upload-state");
    ["dragenter", "dragover"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      drop.addEventListener(t, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
    });
    form.addEventListener("htmx:xhr:progress", function (e) {
      if (!e.detail.lengthComputable) return;
      bar.hidden = false;
      var pct = Math.round((e.detail.loaded / e.detail.total) * 100);
      bar.value = pct;
      state.textContent = pct < 100 ? "上传中 " + pct + "%" : "上传完成，正在导入…";
      if (pct >= 100) bar.removeAttribute("value");
    });
    form.addEventListener("htmx:beforeRequest", function () { bar.hidden = false; bar.value = 0; state.textContent = "上传中…"; });
    form.addEventListener("htmx:afterRequest", function (e) {
      bar.hidden = true;
      state.textContent = e.detail.successful ? "导入完成" : "未导入";
    });
  }

  // the 对账 workspace: Σ of the ticked lines (1/10000 yuan) and the difference. A line counts
  // its part ("本次核销", a magnitude in yuan, signed as the line) or, left empty, its whole
  // remaining amount; a part that is not an amount or is above what is left is marked on its
  // field (the browser then refuses to send the form; the server checks it again).
  function minor(text) {
    var m = /^\s*(\d{1,14})(?:\.(\d{0,4}))?\s*$/.exec(text);
    return m ? Number(m[1]) * 10000 + Number(((m[2] || "") + "0000").slice(0, 4)) : NaN;
  }

  function setupMatch(form) {
    function sums() {
      var t = { expected: 0, actual: 0 };
      form.querySelectorAll("input[data-amount]").forEach(function (c) {
        var left = Number(c.dataset.amount);
        var part = form.querySelector('input[data-part-of="' + c.value + '"][data-side="' + c.dataset.side + '"]');
        var text = part ? part.value.trim() : "";
        var size = text === "" ? Math.abs(left) : minor(text);
        if (part) {
          var bad = text !== "" && (isNaN(size) || size === 0 || size > Math.abs(left));
          part.setCustomValidity(bad ? (isNaN(size) || size === 0 ? "请输入正数金额，最多 4 位小数" : "超过未核销金额 " + money(Math.abs(left) / 10000)) : "");
          part.classList.toggle("over", bad);
          if (text !== "" && !bad && !c.checked) c.checked = true;  // a part ticks its line
        }
        if (c.checked && !isNaN(size)) t[c.dataset.side] += left < 0 ? -size : size;
      });
      document.getElementById("sum-expected").textContent = money(t.expected / 10000);
      document.getElementById("sum-actual").textContent = money(t.actual / 10000);
      document.getElementById("sum-diff").textContent = money((t.actual - t.expected) / 10000);
    }
    form.addEventListener("change", sums);
    form.addEventListener("input", sums);
    sums();
    form.dataset.ready = "1";  // the sums follow the ticks from here on (tests wait for it)
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart[data-src]").forEach(drawChart);
    var upload = document.getElementById("upload");
    if (upload) setupUpload(upload);
    var match = document.getElementById("match-form");
    if (match) setupMatch(match);
    document.querySelectorAll("form.confirm").forEach(function (f) {
      f.addEventListener("submit", function (e) { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
    });
  });
})();
