/* Loaded right before the vendored Trix (web/vendor/trix-2.1.19). When it loads, Trix puts two <style> elements
 * into <head> (its element defaults). Under our Content-Security-Policy (style-src 'self', no nonce: see
 * pivotdesk/common/csp.py) an inline <style> is refused and reported; Trix would take a nonce from
 * <meta name="trix-csp-nonce">, but our policy has none to give. So, while Trix loads, those two elements are
 * not inserted (their rules are in web/composer.css instead); web/composer.js puts head.insertBefore back. */
(function () {
  "use strict";
  var head = document.head;
  if (!head || window.deskTrixStylesHeld) return;
  var insert = head.insertBefore;
  head.insertBefore = function (node, ref) {
    if (node && node.nodeName === "STYLE" && node.hasAttribute && node.hasAttribute("data-tag-name")) return node;
    return insert.call(head, node, ref);
  };
  window.deskTrixStylesHeld = function () {
    if (head.insertBefore !== insert) delete head.insertBefore;
  };
})();
