// The admin API call every panel of the admin page shares (loaded first): a Bearer token,
// a JSON body, null for 204, and an Error carrying the service's short reason otherwise.
(function () {
  'use strict';
  window.pwAdminCall = function (token, method, path, body) {
    var opts = { method: method, headers: { Authorization: 'Bearer ' + token } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch('/api/v1/admin' + path, opts).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || r.statusText);
        return data;
      });
    });
  };
}());
