/* What older portal stacks ship: prototype extensions, a $ global, a wrapped fetch. */
(function () {
  'use strict';
  // what the test reads: every CSP violation and every uncaught error of the page
  window.__violations = [];
  window.__errors = [];
  document.addEventListener('securitypolicyviolation', function (e) {
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile);
  });
  window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
  window.addEventListener('unhandledrejection', function (e) { window.__errors.push(String(e.reason)); });
  Object.prototype.polluted = 'yes';  // enumerable, like old libraries did
  Object.prototype.each = function (fn) { for (var k in this) fn(k, this[k]); };
  Array.prototype.last = function () { return this[this.length - 1]; };
  Array.prototype.remove = function (x) { var i = this.indexOf(x); if (i >= 0) this.splice(i, 1); return this; };
  window.$ = function (selector) { return document.querySelectorAll(selector); };
  window.jQuery = window.$;
  var original = window.fetch;
  window.__fetched = [];
  window.fetch = function (input, init) {
    // a logging/"CSRF" wrapper: copies the options key by key (inherited ones too)
    var options = {};
    init = init || {};
    for (var k in init) options[k] = init[k];
    window.__fetched.push(String(input && input.url || input));
    return original.call(window, input, options).then(function (response) {
      return response;
    });
  };
})();
