package lb.dataplane.pipeline;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import lb.dataplane.flow.FlowTable;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

/**
 * What a pipeline test builds a pipeline from and watches it by: the frames lb sent toward each
 * side, worker 0's counters, the services, the flow table, and a buffer to write frames in.
 */
abstract class PipelineFixture
{
    final List<byte[]> toClient = new ArrayList<>();
    final List<byte[]> toServer = new ArrayList<>();
    final CountersManager countersManager = countersManager();
    final DataplaneCounters counters = new DataplaneCounters(countersManager, 0);
    final ServiceTable services = new ServiceTable();
    final FlowTable flows = new FlowTable(1024);
    final UnsafeBuffer frame = new UnsafeBuffer(new byte[2048]);

    /** A counters manager over direct buffers, with room for every test pipeline's counters. */
    static CountersManager countersManager()
    {
        return new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 20)), new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16)));
    }
}
