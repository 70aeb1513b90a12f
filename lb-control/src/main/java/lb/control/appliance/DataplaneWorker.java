package lb.control.appliance;

import java.nio.ByteBuffer;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.io.HugePageMemory;
import lb.dataplane.pipeline.BackendStatsTable;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.pipeline.PacketPipeline;
import lb.dataplane.pipeline.ServiceTable;
import lb.dataplane.spread.RouteSlots;
import lb.dataplane.worker.DataplaneAgent;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.status.CountersManager;

/**
 * What one dataplane worker owns: its flow table, its services with their pools and schedulers,
 * its counters (labelled {@code worker=i}), its published per-backend stats, its command ring and
 * its packet-latency recorder. The worker thread is the only writer of all of it; the control side
 * writes only into the command ring and reads the rest the way {@link ApplianceRuntime} does.
 */
final class DataplaneWorker
{
    /** Headroom over an even split of the flows, for uneven steering: each table holds 1.25 x its share. */
    static final double FLOW_HEADROOM = 1.25;
    /** The smallest flow table of one of several workers. */
    static final int MIN_FLOWS_PER_WORKER = 1024;

    final int index;
    final String name;
    final DataplaneCounters counters;
    final FlowTable flows;
    /** The IPv6 flows (128-byte slots), or null when lb has no IPv6 address. */
    final FlowTable flows6;
    final ServiceTable services = new ServiceTable();
    final BackendStatsTable backendStats = new BackendStatsTable();
    /** Route services of this worker: installed by the worker, offered by {@link RouteServices}. */
    final RouteSlots routes = new RouteSlots();
    /** Control to this worker: many producers (the health prober and the control socket), written through {@link CommandRings}. */
    final ManyToOneRingBuffer commands =
        new ManyToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(Appliance.RING_BYTES)));
    final SingleWriterRecorder packetLatency = new SingleWriterRecorder(1, DataplaneAgent.LATENCY_MAX_NANOS, 2);
    PacketPipeline pipeline;

    /**
     * @param flowCapacity   the flows this worker's table holds (see {@link #flowCapacity(int, int)})
     * @param flowTableSize6 the entries of this worker's IPv6 table (split the same way), or 0: no IPv6 table
     */
    DataplaneWorker(final int index, final CountersManager countersManager, final int flowCapacity, final int flowTableSize6)
    {
        this.index = index;
        this.name = "lb-dataplane-" + index;
        this.counters = new DataplaneCounters(countersManager, index);
        // Huge pages: the table is far bigger than the caches, so each lookup would otherwise also miss the TLB.
        this.flows = new FlowTable(2 * flowCapacity, FullPolicy.EVICT_UNESTABLISHED, HugePageMemory::allocate);
        this.flows6 = flowTableSize6 == 0 ? null :
            FlowTable.ipv6(flowTableSize6, FullPolicy.EVICT_UNESTABLISHED, HugePageMemory::allocate);
    }

    /**
     * One worker's flow capacity. One worker gets the configured total. Several get an even share
     * with 25% headroom, at least {@link #MIN_FLOWS_PER_WORKER}: the steering hash spreads client
     * endpoints evenly but not exactly, and a full table refuses new flows of that worker only.
     */
    static int flowCapacity(final int totalFlows, final int workers)
    {
        if (workers == 1)
        {
            return totalFlows;
        }
        return Math.max(MIN_FLOWS_PER_WORKER, (int)Math.ceil(totalFlows * FLOW_HEADROOM / workers));
    }
}
