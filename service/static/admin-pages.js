// "Trang xem nhiều" panel of the admin page: hide a path from public top lists, set and lock
// its title, or forget it. Loaded before admin.js, which announces the chosen site.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var fmt = new Intl.NumberFormat('vi-VN');
  var site = '', token = '';

  function say(text) { $('pages-msg').textContent = text; }
  function call(method, query, body) {
    return window.pwAdminCall(token, method, '/sites/' + site + '/pages' + query, body);
  }
  function cell(tr, text) {
    var td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  function button(td, label, action) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', function () {
      Promise.resolve(action()).then(function (done) {
        if (done !== false) { say('Đã cập nhật.'); load(); }
      }).catch(function (e) { say(e.message); });
    });
    td.appendChild(b);
  }

  function load() {
    if (!site) return;
    call('GET', '?period=' + $('pages-period').value + '&limit=50').then(function (data) {
      var body = $('pages').querySelector('tbody');
      body.textContent = '';
      data.pages.forEach(function (p) {
        var tr = document.createElement('tr');
        cell(tr, p.path);
        cell(tr, p.title || '');
        cell(tr, fmt.format(p.views));
        cell(tr, [p.hidden ? 'Đang ẩn' : 'Hiển thị', p.title_locked ? 'tiêu đề đã khoá' : '']
          .filter(Boolean).join(', '));
        var actions = cell(tr, '');
        button(actions, p.hidden ? 'Hiện lại' : 'Ẩn', function () {
          return call('PUT', '', { path: p.path, hidden: !p.hidden });
        });
        button(actions, 'Đổi tiêu đề', function () {
          var title = window.prompt('Tiêu đề mới (để trống để mở khoá):', p.title || '');
          if (title === null) return false;
          return call('PUT', '', { path: p.path, title: title.trim() ? title : null });
        });
        button(actions, 'Xoá', function () {
          if (!window.confirm('Xoá số liệu của ' + p.path + '? Tổng số truy cập không đổi.')) return false;
          return call('DELETE', '?path=' + encodeURIComponent(p.path));
        });
        body.appendChild(tr);
      });
      if (!data.pages.length) say('Chưa có trang nào trong thời gian này.');
      else say('');
    }).catch(function (e) { say(e.message); });
  }

  document.addEventListener('pw:site', function (ev) {
    site = ev.detail.site;
    token = ev.detail.token;
    load();
  });
  $('pages-period').addEventListener('change', load);
}());
