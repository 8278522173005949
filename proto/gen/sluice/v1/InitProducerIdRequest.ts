// Original file: proto/sluice/v1/log.proto


export interface InitProducerIdRequest {
}

export interface InitProducerIdRequest__Output {
}
