//! Reading a CloudFormation template (being written).
