/** The Host-header check against DNS rebinding (src/io/host-check.ts), shared by view and serve. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {hostname} from "node:os";
import {isAllowedHost, parseHostHeader} from "../../../src/io/host-check.ts";

test("a loopback-bound server accepts its loopback names with its port, nothing else", () => {
    for (const h of ["127.0.0.1:8080", "localhost:8080", "LocalHost:8080", "localhost.:8080", "[::1]:8080"]) assert.equal(isAllowedHost(h, "127.0.0.1", 8080), true, h);
    for (const h of ["evil.example:8080", "evil.example", "127.0.0.1:8081", "127.0.0.1", "localhost", "192.168.1.5:8080", "127.0.0.1.evil.example:8080", "localhost:8080@evil.example", "a b:8080", "", undefined])
        assert.equal(isAllowedHost(h, "127.0.0.1", 8080), false, String(h));
    // no port in the header means 80
    assert.equal(isAllowedHost("localhost", "127.0.0.1", 80), true);
    assert.equal(isAllowedHost("[::1]:8080", "::1", 8080), true);
    assert.equal(isAllowedHost("[::1]:8080", "[::1]", 8080), true);
});

test("the name or address given to --host is accepted; every interface also takes IP literals and this machine's name", () => {
    assert.equal(isAllowedHost("MyBox.lan:9000", "mybox.lan", 9000), true);
    assert.equal(isAllowedHost("other.lan:9000", "mybox.lan", 9000), false);
    assert.equal(isAllowedHost("10.0.0.7:9000", "10.0.0.7", 9000), true);
    assert.equal(isAllowedHost("10.0.0.8:9000", "10.0.0.7", 9000), false);
    for (const bound of ["0.0.0.0", "::"]) {
        assert.equal(isAllowedHost("192.168.1.5:9000", bound, 9000), true, bound);
        assert.equal(isAllowedHost("[fe80::1]:9000", bound, 9000), true, bound);
        assert.equal(isAllowedHost(`${hostname()}:9000`, bound, 9000), true, bound);
        assert.equal(isAllowedHost("rebind.evil.example:9000", bound, 9000), false, bound);
        assert.equal(isAllowedHost("192.168.1.5:9001", bound, 9000), false, bound);
    }
});

test("Host headers are parsed as name and port", () => {
    assert.deepEqual(parseHostHeader("Example.COM:81"), {name: "example.com", port: 81});
    assert.deepEqual(parseHostHeader("[::1]"), {name: "::1", port: 80});
    assert.equal(parseHostHeader("x:y"), undefined);
    assert.equal(parseHostHeader("[::1"), undefined);
});
