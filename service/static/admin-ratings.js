// "Đánh giá" panel of the admin page: readers' ratings of each page this month, least useful
// or most rated first, with their reasons.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var fmt = new Intl.NumberFormat('vi-VN');
  var pct = new Intl.NumberFormat('vi-VN', { style: 'percent', maximumFractionDigits: 0 });
  var REASONS = ['thieu', 'kho-hieu', 'sai', 'cu', 'khac'];  // the table's reason columns, in order
  var site = '', token = '';
  var asked = 0;  // the newest load: an older answer that arrives after it is dropped

  function say(text, error) { window.pwAdminSay(text, 'ratings-msg', error); }
  function td(tr, text, cls) {
    var cell = document.createElement('td');
    cell.textContent = text;
    if (cls) cell.className = cls;
    tr.appendChild(cell);
    return cell;
  }
  function share(value) { return value === null || value === undefined ? '–' : pct.format(value); }

  function load() {
    if (!site) return;
    var body = $('ratings').querySelector('tbody');
    var mine = ++asked;
    window.pwAdminCall(token, 'GET', '/sites/' + encodeURIComponent(site) +
      '/ratings?period=month&sort=' + $('ratings-sort').value + '&limit=100')
      .then(function (data) {
        if (mine !== asked) return;  // another site or order was asked for since
        body.textContent = '';
        var t = data.totals || {};
        $('ratings-totals').textContent = 'Cả tháng: ' + fmt.format(t.useful || 0) + ' lượt «hữu ích», ' +
          fmt.format(t.not_useful || 0) + ' lượt «không hữu ích» (' + share(t.share_useful) + ' hữu ích).';
        data.pages.forEach(function (p) {
          var tr = document.createElement('tr');
          var page = td(tr, p.title || p.path, 'title');
          if (p.title) {
            page.appendChild(document.createElement('br'));
            var small = document.createElement('small');
            small.className = 'path';
            small.textContent = p.path;
            page.appendChild(small);
          }
          td(tr, fmt.format(p.useful), 'num');
          td(tr, fmt.format(p.not_useful), 'num');
          td(tr, share(p.share_useful), 'num');
          REASONS.forEach(function (r) { td(tr, fmt.format((p.reasons || {})[r] || 0), 'num'); });
          body.appendChild(tr);
        });
        if (!data.pages.length) {
          var tr = document.createElement('tr');
          td(tr, 'Chưa có đánh giá nào trong tháng này.').setAttribute('colspan', '9');
          body.appendChild(tr);
        }
        say('');
      })
      .catch(function (e) {
        if (mine !== asked) return;
        body.textContent = '';
        $('ratings-totals').textContent = '';
        say('Không tải được đánh giá: ' + e.message, true);
      });
  }

  document.addEventListener('pw:site', function (ev) {
    site = ev.detail.site;
    token = ev.detail.token;
    load();
  });
  $('ratings-sort').addEventListener('change', load);
  $('ratings-sort').form.addEventListener('submit', function (ev) { ev.preventDefault(); });
}());
