/** The packet program: parsing, flow table, schedulers, rewrite actions, AF_PACKET I/O and workers. */
package lb.dataplane;
