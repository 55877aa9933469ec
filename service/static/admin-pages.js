// "Trang xem nhiều" panel of the admin page: hide a path from public top lists, set and lock
// its title, forget it, see whether the portal confirmed it (its state) and ask for a check
// now. Loaded before admin.js, which announces the chosen site.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var fmt = new Intl.NumberFormat('vi-VN');
  // `unchecked`: a site that does not verify its pages (no origins, or verify_pages off)
  var STATES = { verified: 'Đã xác minh', unverified: 'Chưa xác minh', rejected: 'Bị từ chối',
                 unchecked: 'Không kiểm tra' };
  var site = '', token = '';

  function say(text, error) { window.pwAdminSay(text, 'pages-msg', error); }
  function call(method, query, body) {
    return window.pwAdminCall(token, method, '/sites/' + site + '/pages' + query, body);
  }
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    if (text) td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  // A path breaks only after a "/" (never inside a word): a <wbr> after each slash.
  function pathCell(tr, path) {
    var td = cell(tr, '', 'path');
    path.split('/').forEach(function (part, i, parts) {
      td.appendChild(document.createTextNode(part + (i < parts.length - 1 ? '/' : '')));
      if (i < parts.length - 1) td.appendChild(document.createElement('wbr'));
    });
    return td;
  }
  function button(td, label, name, action, done) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.setAttribute('aria-label', name);
    b.addEventListener('click', function () {
      Promise.resolve(action()).then(function (result) {
        if (result === false) return;
        say(done);
        load(true);
      }).catch(function (e) {
        say('Không thực hiện được: ' + e.message, true);
      });
    });
    td.appendChild(b);
  }

  var asked = 0;  // the newest load: an older answer that arrives after it is dropped
  function load(keepMessage) {
    if (!site) return;
    var state = $('pages-state').value;
    var mine = ++asked;
    call('GET', '?period=' + $('pages-period').value + '&limit=100' + (state ? '&state=' + state : ''))
      .then(function (data) {
        if (mine !== asked) return;  // another site, period or state was asked for since
        var body = $('pages').querySelector('tbody');
        body.textContent = '';
        var shown = data.pages;  // the service applies the state filter
        shown.forEach(function (p) {
          var tr = document.createElement('tr');
          pathCell(tr, p.path);
          cell(tr, p.title || '', 'title');
          cell(tr, fmt.format(p.views), 'num');
          var flags = [];
          if (p.state) flags.push(STATES[p.state] || p.state);
          flags.push(p.hidden ? 'Đang ẩn' : 'Hiển thị');
          if (p.title_locked) flags.push('tiêu đề đã khoá');
          var st = cell(tr, flags.join(', '));
          if (p.state) st.classList.add('state-' + p.state);
          var actions = cell(tr, '');
          button(actions, p.hidden ? 'Hiện lại' : 'Ẩn', (p.hidden ? 'Hiện lại ' : 'Ẩn ') + p.path, function () {
            return call('PUT', '', { path: p.path, hidden: !p.hidden });
          }, p.hidden ? 'Đã hiện lại ' + p.path + '.' : 'Đã ẩn ' + p.path + ' khỏi danh sách công khai.');
          button(actions, 'Đổi tiêu đề', 'Đổi tiêu đề ' + p.path, function () {
            var title = window.prompt('Tiêu đề mới (để trống để mở khoá):', p.title || '');
            if (title === null) return false;
            return call('PUT', '', { path: p.path, title: title.trim() ? title : null });
          }, 'Đã lưu tiêu đề của ' + p.path + '.');
          if (p.state !== undefined && p.state !== 'unchecked') {
            button(actions, 'Kiểm tra ngay', 'Kiểm tra ngay ' + p.path, function () {
              return call('POST', '/check', { path: p.path });
            }, 'Đã yêu cầu kiểm tra ' + p.path + '; kết quả có sau ít phút.');
          }
          button(actions, 'Xoá', 'Xoá ' + p.path, function () {
            if (!window.confirm('Xoá số liệu của ' + p.path + '? Tổng số truy cập không đổi.')) return false;
            return call('DELETE', '?path=' + encodeURIComponent(p.path));
          }, 'Đã xoá số liệu của ' + p.path + '.');
          body.appendChild(tr);
        });
        if (!shown.length) {
          var tr = document.createElement('tr');
          cell(tr, state ? 'Không có trang nào ở tình trạng này.' : 'Chưa có trang nào trong thời gian này.')
            .setAttribute('colspan', '5');
          body.appendChild(tr);
        }
        if (!keepMessage) say('');
      }).catch(function (e) {
        if (mine === asked) say('Không tải được danh sách trang: ' + e.message, true);
      });
  }

  document.addEventListener('pw:site', function (ev) {
    site = ev.detail.site;
    token = ev.detail.token;
    load();
  });
  $('pages-period').addEventListener('change', function () { load(); });
  $('pages-state').addEventListener('change', function () { load(); });
  $('pages-filters').addEventListener('submit', function (ev) { ev.preventDefault(); });
}());
