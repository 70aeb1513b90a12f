package lb.dataplane.worker;

import java.nio.ByteBuffer;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.pipeline.BackendStatsTable;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.pipeline.Service;
import lb.dataplane.pipeline.ServiceTable;
import lb.dataplane.sched.AdminState;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.RouteSlots;
import lb.dataplane.spread.SpreadPolicy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Commands encoded as the control side writes them, applied as the worker applies them. */
class CommandApplierTest
{
    static final int VIP = 0xC612_0064;
    static final int B1 = 0xC612_010B;
    static final int B2 = 0xC612_010C;

    final ServiceTable services = new ServiceTable();
    final FlowTable flows = new FlowTable(1024);
    final BackendStatsTable stats = new BackendStatsTable();
    final DataplaneCounters counters = new DataplaneCounters(new CountersManager(
        new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 20)), new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16))), 0);
    final CommandApplier applier = new CommandApplier(services, flows, stats, counters.commandsApplied, counters.commandsRejected);
    final UnsafeBuffer message = new UnsafeBuffer(new byte[256]);

    void service(final int id, final String name, final int port, final SchedulerKind kind)
    {
        Commands.encodeService(message, 0, id, VIP, port, 6, kind.ordinal(), 65537, 0, name);
        applier.apply(Commands.ADD_SERVICE, message, 0);
    }

    void backend(final int type, final int id, final int ip, final int port, final int value)
    {
        Commands.encodeBackend(message, 0, id, ip, port, value);
        applier.apply(type, message, 0);
    }

    /** Services 0 "web" (port 80) and 1 "alt" (8080), each with backend B1, which answered ARP at 02:aa:bb:cc:dd:ee. */
    void twoServicesOnB1AtItsMac()
    {
        service(0, "web", 80, SchedulerKind.ROUND_ROBIN);
        service(1, "alt", 8080, SchedulerKind.ROUND_ROBIN);
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);
        backend(Commands.ADD_BACKEND, 1, B1, 0, 1);
        Commands.encodeHealth(message, 0, B1, true, 0x02AABBCCDDEEL);
        applier.apply(Commands.BACKEND_HEALTH, message, 0);
    }

    int slotOf(final int id, final int ip)
    {
        final BackendPool pool = services.byId(id).pool();
        return BackendPool.slotOf(pool.find(ip, 0));
    }

    @Test
    void timeoutsReachTheIpv6FlowTableToo()
    {
        final FlowTable flows6 = FlowTable.ipv6(1024, FullPolicy.REFUSE, null);
        applier.flows6(flows6);
        Commands.encodeTimeouts(message, 0, 1_000L, 2_000L, 3_000L, 4_000L);
        applier.apply(Commands.TIMEOUTS, message, 0);

        for (final FlowTable table : new FlowTable[] {flows, flows6})
        {
            assertEquals(1_000L, table.timeoutNanos(FlowTable.TCP_SYN_SEEN));
            assertEquals(2_000L, table.timeoutNanos(FlowTable.TCP_ESTABLISHED));
            assertEquals(3_000L, table.timeoutNanos(FlowTable.TCP_CLOSING));
            assertEquals(4_000L, table.timeoutNanos(FlowTable.TCP_NONE));
        }
        assertEquals(1, counters.commandsApplied.get());
    }

    @Test
    void addsServicesAndBackendsAndPublishesThem()
    {
        service(3, "web", 80, SchedulerKind.WEIGHTED_ROUND_ROBIN);
        final Service web = services.byId(3);
        assertNotNull(web);
        assertEquals("web", web.name());
        assertEquals(web, services.find(VIP, 80, 6));

        backend(Commands.ADD_BACKEND, 3, B1, 0, 5);
        final int slot = slotOf(3, B1);
        assertTrue(stats.handle(3, slot) != 0);
        assertEquals(B1, stats.ip(3, slot));
        assertEquals(5, stats.weight(3, slot));
        assertEquals(AdminState.READY, stats.adminState(3, slot));
        assertEquals(0, stats.mac(3, slot), "MAC not learned yet");
        assertTrue(applier.poolsChanged());
        assertFalse(applier.poolsChanged(), "reported once");
        assertEquals(2, counters.commandsApplied.get());
    }

    @Test
    void healthReachesEveryPoolWithTheAddressAndLaterBackendsInheritTheMac()
    {
        twoServicesOnB1AtItsMac();
        for (int id = 0; id < 2; id++)
        {
            final BackendPool pool = services.byId(id).pool();
            assertTrue(pool.canTakeNewFlows(pool.find(B1, 0)));
            assertEquals(0x02AABBCCDDEEL, stats.mac(id, slotOf(id, B1)));
        }
        service(2, "late", 8443, SchedulerKind.ROUND_ROBIN);
        backend(Commands.ADD_BACKEND, 2, B1, 0, 1);
        final BackendPool late = services.byId(2).pool();
        assertTrue(late.canTakeNewFlows(late.find(B1, 0)), "a known address is usable at once");

        Commands.encodeHealth(message, 0, B1, false, 0);
        applier.apply(Commands.BACKEND_HEALTH, message, 0);
        assertFalse(stats.healthy(0, slotOf(0, B1)));
        assertFalse(late.canTakeNewFlows(late.find(B1, 0)));
    }

    @Test
    void aFailedTcpCheckStopsNewFlowsOfThatServiceOnlyAndKeepsEstablishedOnes()
    {
        twoServicesOnB1AtItsMac();
        applier.poolsChanged();

        backend(Commands.BACKEND_CHECK, 0, B1, 0, 0);
        final BackendPool web = services.byId(0).pool();
        final BackendPool alt = services.byId(1).pool();
        assertFalse(web.canTakeNewFlows(web.find(B1, 0)), "its check failed: no new flows");
        assertTrue(web.canCarryFlows(web.find(B1, 0)), "ARP still finds it: established flows stay");
        assertEquals(0, web.eligibleCount());
        assertTrue(alt.canTakeNewFlows(alt.find(B1, 0)), "the other service's backend on that host is untouched");
        assertFalse(stats.checkPassing(0, slotOf(0, B1)), "published");
        assertTrue(stats.healthy(0, slotOf(0, B1)), "ARP's word apart");
        assertTrue(stats.checkPassing(1, slotOf(1, B1)));
        assertTrue(applier.poolsChanged());

        backend(Commands.BACKEND_CHECK, 0, B1, 0, 1);
        assertTrue(web.canTakeNewFlows(web.find(B1, 0)), "passing again");
        backend(Commands.BACKEND_CHECK, 0, B2, 0, 1);
        assertEquals(1, counters.commandsRejected.get(), "no such backend");
    }

    @Test
    void weightStateAndRemoval()
    {
        service(0, "web", 80, SchedulerKind.ROUND_ROBIN);
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);
        backend(Commands.ADD_BACKEND, 0, B2, 0, 1);
        backend(Commands.SET_WEIGHT, 0, B2, 0, 7);
        assertEquals(7, stats.weight(0, slotOf(0, B2)));
        backend(Commands.SET_ADMIN_STATE, 0, B2, 0, AdminState.DRAIN.ordinal());
        assertEquals(AdminState.DRAIN, services.byId(0).pool().adminState(services.byId(0).pool().find(B2, 0)));
        assertEquals(AdminState.DRAIN, stats.adminState(0, slotOf(0, B2)));
        final int slot = slotOf(0, B2);
        backend(Commands.DEL_BACKEND, 0, B2, 0, 0);
        assertEquals(0, stats.handle(0, slot));
        // No active flow, but a connection may have just closed: it lingers, taking nothing new, for the closing timeout.
        final BackendPool pool = services.byId(0).pool();
        assertFalse(pool.canTakeNewFlows(pool.find(B2, 0)));
        applier.reapRemoved(5_000);
        applier.reapRemoved(5_000 + flows.timeoutNanos(FlowTable.TCP_CLOSING));
        assertEquals(BackendPool.NO_HANDLE, pool.find(B2, 0));
        assertEquals(0, applier.removingCount());
        assertEquals(6, counters.commandsApplied.get(), "service, 2 backends, weight, state, removal");
    }

    @Test
    void commandsTheWorkerCannotCarryOutAreCountedAsRejected()
    {
        service(0, "web", 80, SchedulerKind.ROUND_ROBIN);
        service(1, "clash", 80, SchedulerKind.ROUND_ROBIN);          // same VIP:port/proto
        backend(Commands.SET_WEIGHT, 0, B1, 0, 3);                   // no such backend
        backend(Commands.ADD_BACKEND, 9, B1, 0, 1);                  // no such service
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);                  // duplicate
        Commands.encodeBackend(message, 0, 5, 0, 0, 0);
        applier.apply(Commands.DEL_SERVICE, message, 0);             // id 5 does not exist
        assertNull(services.byId(1));
        assertEquals(5, counters.commandsRejected.get());
        assertEquals(2, counters.commandsApplied.get());
    }

    @Test
    void deletingAServiceFreesItsIdAndItsStats()
    {
        service(0, "web", 80, SchedulerKind.MAGLEV);
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);
        final int slot = slotOf(0, B1);
        message.putInt(Commands.SERVICE_ID_OFFSET, 0);
        applier.apply(Commands.DEL_SERVICE, message, 0);
        assertNull(services.byId(0));
        assertNull(services.find(VIP, 80, 6));
        assertEquals(0, stats.handle(0, slot));
        service(0, "web2", 80, SchedulerKind.ROUND_ROBIN);
        assertEquals("web2", services.byId(0).name());
    }

    @Test
    void deletedBackendKeepsItsFlowsUntilTheyEndAndCanComeBack()
    {
        service(0, "web", 80, SchedulerKind.ROUND_ROBIN);
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);
        final BackendPool pool = services.byId(0).pool();
        final int handle = pool.find(B1, 0);
        pool.incrementActive(handle);                                 // one established flow
        backend(Commands.BACKEND_CHECK, 0, B1, 0, 0);                 // its TCP check failed
        backend(Commands.DEL_BACKEND, 0, B1, 0, 0);
        assertTrue(pool.isLive(handle), "still carries its flow");
        assertFalse(pool.canTakeNewFlows(handle), "but takes no new one");
        assertEquals(0, stats.handle(0, BackendPool.slotOf(handle)), "gone from show stat");
        applier.reapRemoved(1_000);
        assertTrue(pool.isLive(handle));

        backend(Commands.ADD_BACKEND, 0, B1, 0, 4);                   // back before its flow ended
        assertEquals(handle, pool.find(B1, 0));
        assertEquals(AdminState.READY, pool.adminState(handle));
        assertEquals(4, pool.weight(handle));
        assertTrue(pool.isCheckPassing(handle), "checked afresh, like any backend added");
        assertEquals(0, applier.removingCount());

        backend(Commands.DEL_BACKEND, 0, B1, 0, 0);
        pool.decrementActive(handle);                                 // the flow ends (its second FIN)
        final long closing = flows.timeoutNanos(FlowTable.TCP_CLOSING);
        applier.reapRemoved(2_000);
        applier.reapRemoved(2_000 + closing - 1);
        assertTrue(pool.isLive(handle), "its last ACK and FIN retransmissions still reach it for the closing timeout");
        assertEquals(B1, pool.ip(handle));
        applier.reapRemoved(2_000 + closing);
        assertFalse(pool.isLive(handle));
        assertEquals(BackendPool.NO_HANDLE, pool.find(B1, 0));
        assertEquals(0, applier.removingCount());
    }

    @Test
    void aDeletedServicesLingeringBackendNeverReachesTheServiceThatReusesItsId()
    {
        service(0, "web", 80, SchedulerKind.ROUND_ROBIN);
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);
        backend(Commands.DEL_BACKEND, 0, B1, 0, 0);                   // lingers for the closing timeout
        message.putInt(Commands.SERVICE_ID_OFFSET, 0);
        applier.apply(Commands.DEL_SERVICE, message, 0);
        assertEquals(0, applier.removingCount());

        service(0, "web2", 80, SchedulerKind.ROUND_ROBIN);            // the same id, a new pool
        backend(Commands.ADD_BACKEND, 0, B2, 0, 1);                   // whose first handle repeats the old one
        final BackendPool pool = services.byId(0).pool();
        final long closing = flows.timeoutNanos(FlowTable.TCP_CLOSING);
        applier.reapRemoved(1_000);
        applier.reapRemoved(1_000 + closing);
        assertTrue(pool.isLive(pool.find(B2, 0)), "the new service's backend stays");
        backend(Commands.SET_WEIGHT, 0, B2, 0, 5);
        assertEquals(5, pool.weight(pool.find(B2, 0)), "and takes commands");
    }

    @Test
    void aDeadAddressLendsNoMacToABackendAddedLater()
    {
        service(0, "web", 80, SchedulerKind.ROUND_ROBIN);
        backend(Commands.ADD_BACKEND, 0, B1, 0, 1);
        Commands.encodeHealth(message, 0, B1, true, 0x02AABBCCDDEEL);
        applier.apply(Commands.BACKEND_HEALTH, message, 0);
        Commands.encodeHealth(message, 0, B1, false, 0);
        applier.apply(Commands.BACKEND_HEALTH, message, 0);
        service(1, "other", 8080, SchedulerKind.ROUND_ROBIN);
        backend(Commands.ADD_BACKEND, 1, B1, 0, 1);
        final BackendPool pool = services.byId(1).pool();
        assertFalse(pool.canTakeNewFlows(pool.find(B1, 0)), "no MAC until the probes find it alive");
    }

    void route(final int type, final int slot, final int hop)
    {
        Commands.encodeRoute(message, 0, slot, hop);
        applier.apply(type, message, 0);
    }

    void health(final int ip, final boolean up, final long mac)
    {
        Commands.encodeHealth(message, 0, ip, up, mac);
        applier.apply(Commands.BACKEND_HEALTH, message, 0);
    }

    @Test
    void routesAreInstalledFromTheirSlotAndNextHopsComeAndGoAtRuntime()
    {
        final RouteSlots slots = new RouteSlots();
        applier.routes(slots);
        health(B1, true, 0x0200_0000_0B0BL); // a next hop the probes know already
        final RouteForwarder far = new RouteForwarder(0xC613_0000, 16, SpreadPolicy.LEAST_FLOWS, 1_000_000L, false, 64, 1);
        far.group().add(B1);
        far.group().add(B2);

        route(Commands.ADD_ROUTE, 5, 0);
        assertEquals(1, counters.commandsRejected.get(), "nothing offered in slot 5 yet");
        slots.offer(5, far);
        route(Commands.ADD_ROUTE, 5, 0);
        assertSame(far, slots.at(5));
        assertEquals(1, slots.active().length);
        assertTrue(far.group().usable(0), "known MAC: usable at once");
        assertFalse(far.group().usable(1), "unknown MAC: waits for its probe");
        health(B2, true, 0x0200_0000_0C0CL);
        assertTrue(far.group().usable(1));

        final int b3 = 0xC612_010D;
        route(Commands.ADD_NEXT_HOP, 5, b3);
        assertEquals(2, far.group().indexOf(b3));
        route(Commands.ADD_NEXT_HOP, 5, b3);
        assertEquals(2, counters.commandsRejected.get(), "a next hop twice is refused");

        route(Commands.DEL_NEXT_HOP, 5, B1);
        assertFalse(far.group().usable(0));
        assertTrue(far.group().retired(0));
        health(B1, true, 0x0200_0000_0B0BL);
        assertFalse(far.group().usable(0), "a removed hop stays out whatever its probe says");
        route(Commands.DEL_NEXT_HOP, 5, B1);
        assertEquals(3, counters.commandsRejected.get(), "removed twice");
        route(Commands.ADD_NEXT_HOP, 5, B1);
        assertEquals(0, far.group().indexOf(B1), "added again: its old index");
        assertTrue(far.group().usable(0), "and its known MAC");

        route(Commands.DEL_ROUTE, 5, 0);
        assertNull(slots.at(5));
        assertEquals(0, slots.active().length);
        route(Commands.DEL_ROUTE, 5, 0);
        route(Commands.ADD_NEXT_HOP, 5, b3);
        assertEquals(5, counters.commandsRejected.get(), "no route in the slot any more");
    }
}
