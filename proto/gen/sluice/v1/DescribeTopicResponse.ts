// Original file: proto/sluice/v1/admin.proto

import type { TopicState as _sluice_v1_TopicState, TopicState__Output as _sluice_v1_TopicState__Output } from '../../sluice/v1/TopicState.ts';

export interface DescribeTopicResponse {
  'topic'?: (_sluice_v1_TopicState | null);
}

export interface DescribeTopicResponse__Output {
  'topic': (_sluice_v1_TopicState__Output | null);
}
