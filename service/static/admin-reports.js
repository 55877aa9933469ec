// Admin page: "Nguồn truy cập" and "Báo cáo", beside admin.js. Reads the
// token admin.js keeps in sessionStorage and follows its site selector.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var API = '/api/v1/admin';
  var fmt = new Intl.NumberFormat('vi-VN');
  var pct = new Intl.NumberFormat('vi-VN', { style: 'percent', maximumFractionDigits: 1 });
  var LABELS = {
    direct: 'Truy cập trực tiếp', search: 'Công cụ tìm kiếm', social: 'Mạng xã hội',
    gov: 'Cổng, trang cơ quan nhà nước (.gov.vn)', other: 'Trang web khác'
  };

  function say(text, error) { window.pwAdminSay(text, 'report-msg', error); }
  function token() { return sessionStorage.getItem('pw-admin-token') || ''; }
  function site() { return $('site').value; }
  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function get(path, accept) {
    var headers = { Authorization: 'Bearer ' + token() };
    if (accept) headers.Accept = accept;
    return fetch(API + path, { headers: headers, cache: 'no-store' }).then(function (r) {
      if (r.ok) return r;
      return r.json().then(function (data) { throw new Error(data.error || r.statusText); });
    });
  }

  function loadSources() {
    if (!site()) return;
    var period = $('sources-period').value;
    get('/sites/' + encodeURIComponent(site()) + '/sources?period=' + period)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var body = $('sources').querySelector('tbody'), total = 0;
        body.textContent = '';
        Object.keys(LABELS).forEach(function (k) { total += data.sources[k] || 0; });
        Object.keys(LABELS).forEach(function (k) {
          var tr = el('tr'), n = data.sources[k] || 0;
          var th = el('th', LABELS[k]);
          th.setAttribute('scope', 'row');
          tr.appendChild(th);
          tr.appendChild(el('td', fmt.format(n))).className = 'num';
          tr.appendChild(el('td', total ? pct.format(n / total) : '–')).className = 'num';
          body.appendChild(tr);
        });
        var list = $('source-hosts');
        list.textContent = '';
        data.hosts.forEach(function (h) {
          list.appendChild(el('li', h.host + ': ' + fmt.format(h.visits) + ' lượt'));
        });
        $('source-hosts-note').textContent = (period === 'today' || period === 'week')
          ? 'Trang giới thiệu được thống kê theo tháng và năm.'
          : (data.hosts.length ? '' : 'Chưa có trang giới thiệu nào.');
      })
      .catch(function (e) { $('source-hosts-note').textContent = 'Không tải được nguồn truy cập: ' + e.message; });
  }

  function filename(response, fallback) {
    var found = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
    return found ? found[1] : fallback;
  }

  $('report-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target.elements, kind = f.kind.value;
    if (!/^[0-9]{4}$/.test(f.year.value)) { say('Hãy nhập năm, ví dụ ' + new Date().getFullYear() + '.', true); return; }
    f.month.value = f.year.value + '-' + f.monthnum.value;
    var value = kind === 'year' ? f.year.value : f.month.value;
    var csv = f.format.value === 'csv';
    say('Đang tạo báo cáo…');
    get('/sites/' + encodeURIComponent(site()) + '/report?' + kind + '=' + encodeURIComponent(value),
        csv ? 'text/csv' : null)
      .then(function (r) {
        var name = filename(r, 'bao-cao-' + site() + '-' + value + (csv ? '.csv' : '.xlsx'));
        return r.blob().then(function (blob) {
          var a = el('a'), url = URL.createObjectURL(blob);
          a.href = url;
          a.download = name;
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
          say('Đã tải ' + name + '.');
        });
      })
      .catch(function (e) { say('Không tạo được báo cáo: ' + e.message, true); });
  });

  var now = new Date();
  var form = $('report-form').elements;
  form.monthnum.value = (now.getMonth() < 9 ? '0' : '') + (now.getMonth() + 1);
  form.year.value = String(now.getFullYear());
  form.kind.addEventListener('change', function () { form.monthnum.disabled = form.kind.value === 'year'; });
  $('sources-period').addEventListener('change', loadSources);
  $('site').addEventListener('change', loadSources);
  // admin.js fills the site selector after login: load the panel when it does
  new MutationObserver(loadSources).observe($('site'), { childList: true });
})();
