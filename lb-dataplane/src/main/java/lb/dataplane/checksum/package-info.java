/** The Internet checksum: full IPv4 header and TCP/UDP pseudo-header sums, RFC 1624 incremental updates. */
package lb.dataplane.checksum;
